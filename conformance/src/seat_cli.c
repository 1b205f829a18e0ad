/*
 * mqtt-conform --client / --client-listen: choosing the client profile (a
 * name under conformance/profiles/clients/, a .profile file, or a command
 * line), the target line the reports show, and the seat's configuration.
 */
#include "conformance/src/seat_cli.h"

#include "net/net.h"

#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static bool is_file(const char *p)
{
    struct stat st;
    return stat(p, &st) == 0 && S_ISREG(st.st_mode);
}

static void set_bindir(seat_profile *p);

int conf_seat_prepare(const conf_cli *o, const char *defdir, seat_profile *p, conf_errors *errs, char *target,
                      size_t tcap)
{
    char path[4096];
    memset(p, 0, sizeof *p);
    if (o->client_listen) {
        char host[256];
        uint16_t port;
        if (net_parse_hostport(o->client_listen, host, sizeof host, &port) < 0) {
            fprintf(stderr, "mqtt-conform: --client-listen expects HOST:PORT, found '%s'\n", o->client_listen);
            return 2;
        }
        snprintf(target, tcap, "clients connecting to %s", o->client_listen);
        return 0;
    }
    const char *c = o->client;
    bool word = !strpbrk(c, " \t");
    snprintf(path, sizeof path, "%s", c);
    if (word && !is_file(path)) snprintf(path, sizeof path, "%s/../profiles/clients/%s.profile", defdir, c);
    if (word && is_file(path)) {
        if (seat_profile_load(path, p, errs) < 0) return 0; /* errors reported with the scenario errors */
        set_bindir(p);
        snprintf(target, tcap, "client %s%s%s%s", p->name, p->about ? " (" : "", p->about ? p->about : "",
                 p->about ? ")" : "");
        return 0;
    }
    char msg[512];
    if (seat_profile_command(c, p, msg, sizeof msg) < 0) {
        fprintf(stderr, "mqtt-conform: %s\n", msg);
        return 2;
    }
    set_bindir(p);
    snprintf(target, tcap, "client command: %s", c);
    return 0;
}

/* {bindir}: where this mqtt-conform is (its sibling tools, e.g. mqtt-pub). */
static void set_bindir(seat_profile *p)
{
    ssize_t n = readlink("/proc/self/exe", p->bindir, sizeof p->bindir - 1);
    p->bindir[n > 0 ? n : 0] = '\0';
    char *slash = strrchr(p->bindir, '/');
    if (slash) *slash = '\0';
    else snprintf(p->bindir, sizeof p->bindir, ".");
}

int conf_seat_listen_addr(const conf_cli *o, char *host, size_t hcap, uint16_t *port)
{
    if (!o->client_listen) return 0;
    return net_parse_hostport(o->client_listen, host, hcap, port) < 0 ? -1 : 0;
}
