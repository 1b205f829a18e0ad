#!/bin/sh
# Proves libmqttcodec is pure (DESIGN.md, convention 1): no allocation, no I/O,
# no formatted output, no process control and no mutable global state.
#
#   check_pure.sh LIB.a
#
# Check 1: `nm -u` on every member of the archive lists none of the forbidden
# functions as undefined (the library never calls them); one check, however
# many functions the list names (the closing number counts tests, not names).
# Check 2: no member has bytes in a writable data section (.data, .bss,
# .tdata, .tbss or COMMON); .data.rel.ro (tables of pointers, read-only after
# relocation) is allowed.
# Prints each failure with the object that breaks it, then "N passed, N failed",
# and exits 1 if anything failed, 2 on usage errors.
set -u

lib=${1:-}
if [ -z "$lib" ] || [ ! -f "$lib" ]; then
    echo "usage: $0 LIB.a  (a static library to check)" >&2
    exit 2
fi
for tool in nm size; do
    command -v "$tool" >/dev/null 2>&1 || { echo "$0: '$tool' not found (install binutils)" >&2; exit 2; }
done

# Allocation, I/O (stdio, POSIX, sockets), formatted output, logging, process
# control, environment and time: none belongs in a sans-I/O codec.
forbidden="malloc calloc realloc reallocarray free aligned_alloc posix_memalign memalign valloc
strdup strndup
read write pread pwrite readv writev open openat creat close lseek fsync ioctl fcntl
fopen fdopen freopen fclose fread fwrite fflush fseek ftell fgets fgetc getc getchar fputs fputc
putc putchar puts perror
printf fprintf dprintf sprintf snprintf vprintf vfprintf vdprintf vsprintf vsnprintf
asprintf vasprintf __printf_chk __fprintf_chk __sprintf_chk __snprintf_chk __vsnprintf_chk
__vfprintf_chk __vprintf_chk __asprintf_chk
socket connect accept accept4 bind listen send sendto sendmsg recv recvfrom recvmsg
select poll epoll_wait epoll_create epoll_create1 epoll_ctl
mmap munmap brk sbrk syslog vsyslog openlog
exit _exit abort atexit getenv setenv putenv system fork execve raise signal
time clock_gettime gettimeofday rand srand random"

undefined=$(nm -u -A "$lib" 2>/dev/null) || { echo "$0: nm cannot read $lib" >&2; exit 2; }

passed=0
failed=0
# One pass: nm -A lines are "lib.a:member.o:                 U sym".
calls=$(printf '%s\n' "$undefined" | awk -v list="$forbidden" '
    BEGIN { n = split(list, f, /[ \n]+/); for (i = 1; i <= n; i++) bad[f[i]] = 1 }
    ($NF in bad) { m = $1; sub(/:[^:]*$/, "", m); print "FAIL: " m " calls " $NF }' | sort -u)
[ -n "$calls" ] && printf '%s\n' "$calls"
if [ -z "$calls" ]; then
    echo "ok   calls none of the $(echo $forbidden | wc -w) forbidden functions"
    passed=$((passed + 1))
else
    failed=$((failed + 1))
fi

# Mutable global state: bytes in writable data sections of any member.
globals=$(size -A "$lib" 2>/dev/null | awk '
    / \(ex / { member = $1; next }
    ($1 == ".data" || $1 == ".bss" || $1 == ".tdata" || $1 == ".tbss" || $1 == "COMMON" ||
     $1 ~ /^\.data\.[^r]/ || $1 ~ /^\.bss\./) && $2 > 0 { print member " has " $2 " bytes in " $1 }')
if [ -n "$globals" ]; then
    printf '%s\n' "$globals" | sed 's/^/FAIL: /'
    failed=$((failed + 1))
else
    echo "ok   no mutable global state"
    passed=$((passed + 1))
fi

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
