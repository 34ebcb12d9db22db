/*
 * /init of the Linux guest in the boot benchmark (tools/bench/boot_bench.py).
 *
 * It is the first user-space instruction Linux runs, so the TSC it reads
 * first is Linux's "time to ready": the same moment Tessera reports with
 * `TESSERA READY`. Then it measures the TSC frequency against
 * CLOCK_MONOTONIC (about 50 ms; that time is after the reading and is not
 * part of the figure), prints
 *
 *     LINUX READY tsc=<cycles since reset> tsc_hz=<cycles per second>
 *
 * on the console and leaves QEMU through isa-debug-exit (0x10 written to
 * port 0xf4, QEMU exits with status 33), exactly as Tessera does.
 *
 * Built with `gcc -static -O2`; no libc beyond what a static binary has.
 */
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/io.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#define DEBUG_EXIT_PORT 0xf4
#define DEBUG_EXIT_SUCCESS 0x10 /* QEMU exit status (0x10 << 1) | 1 = 33 */
#define CALIBRATION_NS 50000000LL

static inline uint64_t read_tsc(void)
{
    uint32_t lo, hi;
    __asm__ volatile("lfence; rdtsc" : "=a"(lo), "=d"(hi));
    return ((uint64_t)hi << 32) | lo;
}

static int64_t monotonic_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static uint64_t tsc_hz(void)
{
    int64_t t0 = monotonic_ns();
    uint64_t c0 = read_tsc();
    int64_t t1;
    do {
        t1 = monotonic_ns();
    } while (t1 - t0 < CALIBRATION_NS);
    uint64_t c1 = read_tsc();
    return (uint64_t)((double)(c1 - c0) * 1e9 / (double)(t1 - t0));
}

/* The kernel gives init /dev/console as fds 0-2 when the initramfs has the
 * node; if it does not, fall back to the first serial port. */
static int console_fd(void)
{
    if (write(1, "", 0) == 0)
        return 1;
    mkdir("/dev", 0755);
    mount("devtmpfs", "/dev", "devtmpfs", 0, NULL);
    return open("/dev/ttyS0", O_WRONLY | O_NOCTTY);
}

static void debug_exit(unsigned char value)
{
    if (ioperm(DEBUG_EXIT_PORT, 4, 1) == 0)
        outb(value, DEBUG_EXIT_PORT);
}

int main(void)
{
    uint64_t ready = read_tsc(); /* first thing: this is the figure */
    uint64_t hz = tsc_hz();
    int fd = console_fd();

    char line[128];
    int n = snprintf(line, sizeof line, "LINUX READY tsc=%llu tsc_hz=%llu\n",
                     (unsigned long long)ready, (unsigned long long)hz);
    if (fd >= 0) {
        write(fd, line, (size_t)n);
        /* write() returns once the tty has the bytes, not the UART: leaving
         * QEMU now would cut the line. */
        tcdrain(fd);
    }
    debug_exit(DEBUG_EXIT_SUCCESS);

    /* Still here: no isa-debug-exit device or no I/O privilege. Say so and
     * park; init must not exit (the kernel would panic). */
    static const char msg[] = "LINUX INIT: isa-debug-exit failed\n";
    if (fd >= 0) {
        write(fd, msg, sizeof msg - 1);
        tcdrain(fd);
    }
    for (;;)
        pause();
}
