/* The library a host links; a plugin calls hostlib_fn without linking it. */
int hostlib_fn(void) { return 7; }
