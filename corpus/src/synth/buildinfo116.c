/*
 * SYNTHESIZED, not built by Go: a C program (link with gcc -no-pie) carrying a
 * .go.buildinfo section in the pointer format Go 1.13 to 1.17 wrote, as
 * debug/buildinfo reads it:
 *   32-byte header: "\xff Go buildinf:" (14 bytes), pointer size (8), flags (0:
 *   little endian, pointer format), then at offset 16 and 24 the addresses of two
 *   Go string headers {data pointer, length}: the runtime version and the module
 *   info wrapped in cmd/go's 16-byte start and end sentinels.
 */
struct gostring {
	const char *data;
	unsigned long len;
};

static const char version[] = "go1.16.15";
static const char modinfo[] =
	"\x30\x77\xaf\x0c\x92\x74\x08\x02\x41\xe1\xc1\x07\xe6\xd6\x18\xe6"
	"path\texample.com/synth\n"
	"mod\texample.com/synth\t(devel)\t\n"
	"dep\texample.com/dep\tv1.0.0\th1:soinspectsynthesizedAAAAAAAAAAAAAAAAAAAAAAAA=\n"
	"\xf9\x32\x43\x31\x86\x18\x20\x72\x00\x82\x42\x10\x41\x16\xd8\xf2";

static const struct gostring version_hdr = {version, sizeof(version) - 1};
static const struct gostring modinfo_hdr = {modinfo, sizeof(modinfo) - 1};

struct buildinfo_header {
	char magic[14];
	unsigned char ptrsize;
	unsigned char flags;
	const struct gostring *version;
	const struct gostring *modinfo;
};

__attribute__((section(".go.buildinfo"), aligned(16), used))
const struct buildinfo_header go_buildinfo = {
	"\xff Go buildinf:", 8, 0, &version_hdr, &modinfo_hdr,
};

int main(void) { return 0; }
