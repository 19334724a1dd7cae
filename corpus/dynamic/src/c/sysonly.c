/* A library present only in the sysroot's /usr/lib. */
int sysonly_fn(void) { return 3; }
