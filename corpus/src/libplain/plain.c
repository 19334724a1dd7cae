/* A plain C shared library: no Go runtime, no Go module data. */
int plain_add(int a, int b) { return a + b; }
const char *plain_hello(void) { return "hello from plain C"; }
