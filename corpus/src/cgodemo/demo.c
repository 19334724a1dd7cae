/* A tiny C library for the cgo plugins of the corpus: built as libdemo.so and as libabsent.so. */
int demo_add(int a, int b) { return a + b; }
