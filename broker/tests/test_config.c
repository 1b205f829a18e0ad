/*
 * The configuration file parser: mosquitto syntax, every option understood
 * today, and errors naming file and line.
 */
#include "broker/src/broker_config.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static int parse(broker_config *cfg, const char *text, char *err)
{
    broker_config_init(cfg);
    return broker_config_parse(cfg, text, strlen(text), "test.conf", err, 256);
}

Test(broker_config, defaults)
{
    broker_config cfg;
    broker_config_init(&cfg);
    broker_listener l[4];
    cr_assert_eq(broker_config_listeners(&cfg, l, 4), 1);
    cr_assert_str_eq(l[0].host, "127.0.0.1");
    cr_assert_eq(l[0].port, 1883);
    cr_assert(cfg.opts.allow_anonymous);
    cr_assert_eq(cfg.opts.max_qos, 2);
    cr_assert_eq(cfg.opts.max_inflight_messages, 20);
    cr_assert_eq(cfg.opts.max_queued_messages, 1000);
}

Test(broker_config, every_option)
{
    broker_config cfg;
    char err[256] = "";
    const char *text = "# comment\n"
                       "\n"
                       "listener 1884\n"
                       "listener 1885 ::1\r\n"
                       "allow_anonymous false\n"
                       "max_keepalive 120\n"
                       "max_queued_messages 50\n"
                       "max_inflight_messages 5\n"
                       "message_size_limit 1000\n"
                       "max_packet_size 2000\n"
                       "sys_interval 0\n"
                       "retain_available false\n"
                       "max_qos 1\n"
                       "max_topic_alias 3\n"
                       "   \t  \n";
    cr_assert_eq(parse(&cfg, text, err), 0, "%s", err);
    broker_options *o = &cfg.opts;
    cr_assert_not(o->allow_anonymous);
    cr_assert_eq(o->max_keepalive, 120);
    cr_assert_eq(o->max_queued_messages, 50);
    cr_assert_eq(o->max_inflight_messages, 5);
    cr_assert_eq(o->message_size_limit, 1000);
    cr_assert_eq(o->max_packet_size, 2000);
    cr_assert_eq(o->sys_interval, 0);
    cr_assert_not(o->retain_available);
    cr_assert_eq(o->max_qos, 1);
    cr_assert_eq(o->max_topic_alias, 3);
    broker_listener l[4];
    cr_assert_eq(broker_config_listeners(&cfg, l, 4), 2, "listeners replace the default");
    cr_assert_eq(l[0].port, 1884);
    cr_assert_str_eq(l[0].host, "");
    cr_assert_eq(l[1].port, 1885);
    cr_assert_str_eq(l[1].host, "::1");
}

Test(broker_config, port_and_bind_address)
{
    broker_config cfg;
    char err[256];
    cr_assert_eq(parse(&cfg, "port 1999\nbind_address 0.0.0.0\n", err), 0);
    broker_listener l[4];
    cr_assert_eq(broker_config_listeners(&cfg, l, 4), 1);
    cr_assert_eq(l[0].port, 1999);
    cr_assert_str_eq(l[0].host, "0.0.0.0");
}

Test(broker_config, errors_name_file_and_line)
{
    struct { const char *text, *msg; } cases[] = {
        {"port 1\nfoo bar\n", "test.conf:2: unknown option 'foo'"},
        {"max_qos 3\n", "test.conf:1: max_qos: expected 0, 1 or 2, got '3'"},
        {"\n\nport 70000\n", "test.conf:3: port: expected a number from 0 to 65535, got '70000'"},
        {"allow_anonymous yes\n", "test.conf:1: allow_anonymous: expected true or false, got 'yes'"},
        {"max_keepalive\n", "test.conf:1: max_keepalive: missing value"},
        {"max_keepalive -1\n", "test.conf:1: max_keepalive: expected a number from 0 to 65535, got '-1'"},
        {"port 1 2\n", "test.conf:1: port: unexpected '2'"},
        {"listener 1 a b\n", "test.conf:1: listener: unexpected 'b'"},
        {"max_packet_size 5\n", "test.conf:1: max_packet_size: 5 is too small to be useful (at least 20)"},
        {"sys_interval 1x\n", "test.conf:1: sys_interval: expected a number from 0 to 65535, got '1x'"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        broker_config cfg;
        char err[256] = "";
        cr_assert_eq(parse(&cfg, cases[i].text, err), -1, "case %zu accepted", i);
        cr_assert_str_eq(err, cases[i].msg);
    }
}

Test(broker_config, too_many_listeners)
{
    broker_config cfg;
    char err[256];
    char text[1024] = "";
    for (int i = 0; i <= BROKER_MAX_LISTENERS; i++) {
        char line[32];
        snprintf(line, sizeof line, "listener %d\n", 2000 + i);
        strcat(text, line);
    }
    cr_assert_eq(parse(&cfg, text, err), -1);
    cr_assert(strstr(err, "at most"));
}

Test(broker_config, load_file)
{
    char path[] = "/tmp/broker-config-XXXXXX";
    int fd = mkstemp(path);
    cr_assert_geq(fd, 0);
    const char *text = "max_qos 0\nbogus\n";
    cr_assert_eq(write(fd, text, strlen(text)), (ssize_t)strlen(text));
    close(fd);
    broker_config cfg;
    broker_config_init(&cfg);
    char err[512];
    cr_assert_eq(broker_config_load(&cfg, path, err, sizeof err), -1);
    char want[600];
    snprintf(want, sizeof want, "%s:2: unknown option 'bogus'", path);
    cr_assert_str_eq(err, want);
    unlink(path);
    cr_assert_eq(broker_config_load(&cfg, path, err, sizeof err), -1);
    cr_assert(strstr(err, "cannot open"));
}

Test(broker_config, nul_byte_refused)
{
    broker_config cfg;
    broker_config_init(&cfg);
    char err[256];
    const char text[] = "port 1\n\0x\n";
    cr_assert_eq(broker_config_parse(&cfg, text, sizeof text - 1, "nul.conf", err, sizeof err), -1);
    cr_assert_str_eq(err, "nul.conf:2: NUL byte in line");
}
