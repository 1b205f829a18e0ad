/* Tests of net/url.h: the URL forms users write, and what is refused. */
#include <criterion/criterion.h>
#include <string.h>

#include "net/url.h"

static net_url ok(const char *text)
{
    net_url u;
    char err[256];
    cr_assert_eq(net_url_parse(text, &u, err, sizeof err), 0, "%s: %s", text, err);
    return u;
}

static void bad(const char *text, const char *why)
{
    net_url u;
    char err[256] = "";
    cr_assert_eq(net_url_parse(text, &u, err, sizeof err), -1, "%s", text);
    cr_assert(strstr(err, why), "%s: %s", text, err);
}

Test(url, schemes_and_default_ports)
{
    net_url u = ok("mqtt://h");
    cr_assert(!u.tls && !u.ws && u.port == 1883 && !u.has_port && u.has_scheme);
    u = ok("mqtts://h");
    cr_assert(u.tls && !u.ws && u.port == 8883);
    u = ok("ws://h");
    cr_assert(!u.tls && u.ws && u.port == 80);
    cr_assert_str_eq(u.path, "/");
    u = ok("wss://h");
    cr_assert(u.tls && u.ws && u.port == 443);
    u = ok("WS://h:8080/mqtt?x=1");
    cr_assert(u.ws && u.port == 8080 && u.has_port);
    cr_assert_str_eq(u.path, "/mqtt?x=1");
}

Test(url, host_port_stays_plain_tcp)
{
    net_url u = ok("broker.example:1884");
    cr_assert(!u.tls && !u.ws && !u.has_scheme && u.port == 1884);
    cr_assert_str_eq(u.host, "broker.example");
    u = ok("[::1]:1885");
    cr_assert_str_eq(u.host, "::1");
    cr_assert_eq(u.port, 1885);
    u = ok("localhost");
    cr_assert_eq(u.port, 1883);
}

Test(url, mosquitto_L_form)
{
    net_url u = ok("mqtt://alice:s3cr:et@h:1999/a/b/#");
    cr_assert_str_eq(u.user, "alice");
    cr_assert_str_eq(u.password, "s3cr:et");
    cr_assert(u.has_user && u.has_password);
    cr_assert_str_eq(u.host, "h");
    cr_assert_eq(u.port, 1999);
    cr_assert_str_eq(u.path, "a/b/#");
    u = ok("wss://bob@[::1]:8443/mqtt");
    cr_assert(u.has_user && !u.has_password);
    cr_assert_str_eq(u.host, "::1");
    cr_assert_str_eq(u.path, "/mqtt");
}

Test(url, refused)
{
    bad("http://h/", "unsupported URL scheme \"http\"");
    bad("ws://h:0/", "bad host or port");
    bad("ws://h:65536/", "bad host or port");
    bad("ws://:80/", "bad host or port");
    bad("h:1883/x", "needs a URL");
}
