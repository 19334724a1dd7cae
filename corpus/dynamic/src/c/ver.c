/* libver.so, built twice from this file with two version scripts (ver-old.map, ver-new.map). */
int ver_fn(void) { return 1; }
int other_fn(void) { return 2; }
