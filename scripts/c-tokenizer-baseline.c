/* c-tokenizer-baseline: the "speed of light" for splitting EDIFACT into segments and values.
 *
 * Built at bench time by scripts/bench-edifact.sh with `cc -O2`. It does the least a tokenizer must:
 * read UNA (or take the Level A defaults), then one pass over the bytes with a 256-entry class table,
 * honouring the release character, counting segments, data elements and components. No validation,
 * no repertoire check, no envelope state, no tokens kept: a lower bound for our reader, not a rival.
 *
 *   c-tokenizer-baseline FILE [CHUNK] [REPEAT]
 * prints: bytes parse_seconds mb_per_s segments elements components peak_rss_kib
 * (parse time excludes read(2) time, best of REPEAT, read in CHUNK-byte pieces like edifact-bench).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

enum { PLAIN = 0, ELEMENT, COMPONENT, RELEASE, TERMINATOR };

struct state {
    unsigned char cls[256];
    int configured;
    int released;          /* the previous byte was the release character (may span chunks) */
    long long segments, elements, components;
};

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

static void configure(struct state *s, const unsigned char *p, size_t n, size_t *skip) {
    unsigned char comp = ':', elem = '+', rel = '?', term = '\'';
    *skip = 0;
    if (n >= 9 && memcmp(p, "UNA", 3) == 0) {
        comp = p[3]; elem = p[4]; rel = p[6]; term = p[8];
        *skip = 9;
    }
    memset(s->cls, PLAIN, sizeof s->cls);
    s->cls[comp] = COMPONENT;
    s->cls[elem] = ELEMENT;
    s->cls[term] = TERMINATOR;
    if (rel != ' ') s->cls[rel] = RELEASE;
    s->configured = 1;
}

static void tokenize(struct state *s, const unsigned char *p, size_t n) {
    const unsigned char *cls = s->cls;
    long long seg = s->segments, el = s->elements, co = s->components;
    size_t i = 0;
    if (s->released && n > 0) { i = 1; s->released = 0; }
    for (; i < n; i++) {
        switch (cls[p[i]]) {
        case PLAIN: break;
        case ELEMENT: el++; break;
        case COMPONENT: co++; break;
        case RELEASE:
            if (i + 1 < n) i++; else s->released = 1;
            break;
        case TERMINATOR: seg++; break;
        }
    }
    s->segments = seg; s->elements = el; s->components = co;
}

int main(int argc, char **argv) {
    if (argc < 2) {
        fprintf(stderr, "usage: %s FILE [CHUNK] [REPEAT]\n", argv[0]);
        return 2;
    }
    size_t chunk = argc > 2 ? (size_t)atol(argv[2]) : 65536;
    int repeat = argc > 3 ? atoi(argv[3]) : 3;
    if (chunk == 0 || repeat <= 0) { fprintf(stderr, "bad CHUNK or REPEAT\n"); return 2; }
    int fd = open(argv[1], O_RDONLY);
    if (fd < 0) { fprintf(stderr, "%s: %s\n", argv[1], strerror(errno)); return 1; }
    unsigned char *buf = malloc(chunk);
    if (!buf) return 1;
    double best = 1e300;
    long long bytes = 0;
    struct state s;
    for (int r = 0; r < repeat; r++) {
        memset(&s, 0, sizeof s);
        if (lseek(fd, 0, SEEK_SET) != 0) { perror("lseek"); return 1; }
        double parse = 0;
        bytes = 0;
        for (;;) {
            ssize_t got = read(fd, buf, chunk);
            if (got < 0) { if (errno == EINTR) continue; perror("read"); return 1; }
            if (got == 0) break;
            double t0 = now();
            size_t skip = 0;
            if (!s.configured) configure(&s, buf, (size_t)got, &skip);
            tokenize(&s, buf + skip, (size_t)got - skip);
            parse += now() - t0;
            bytes += got;
        }
        if (parse < best) best = parse;
    }
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    /* Elements are counted as separators seen: add one per segment for the tag. */
    printf("%lld %.6f %.1f %lld %lld %lld %ld\n", bytes, best, bytes / 1e6 / best, s.segments,
           s.elements + s.segments, s.components, ru.ru_maxrss);
    free(buf);
    close(fd);
    return 0;
}
