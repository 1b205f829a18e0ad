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
                       "max_connect_size 1000\n"
                       "max_topic_levels 20\n"
                       "max_queued_bytes 5000000000\n"
                       "max_filter_length 1024\n"
                       "memory_limit 6000000000\n"
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
    cr_assert_eq(o->max_connect_size, 1000);
    cr_assert_eq(o->max_topic_levels, 20);
    cr_assert_eq(o->max_queued_bytes, 5000000000ull);
    cr_assert_eq(o->max_filter_length, 1024);
    cr_assert_eq(o->memory_limit, 6000000000ull, "memory_limit is implemented, 64 bits");
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
        {"max_connect_size 10\n", "test.conf:1: max_connect_size: 10 is too small to be useful (at least 64)"},
        {"max_topic_levels 70000\n", "test.conf:1: max_topic_levels: expected a number from 0 to 65535, got '70000'"},
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

/* ---- issue 8: mosquitto 2 defaults, listeners, security, TLS, logging ---- */

static void parse_ok(broker_config *cfg, const char *text)
{
    char err[512] = "";
    broker_config_init(cfg);
    cr_assert_eq(broker_config_parse(cfg, text, strlen(text), "t.conf", err, sizeof err), 0, "%s", err);
}

Test(broker_config, anonymous_default_follows_mosquitto_2)
{
    broker_config cfg;
    parse_ok(&cfg, "max_qos 1\n");
    cr_assert(broker_config_local_only(&cfg));
    cr_assert(cfg.opts.allow_anonymous, "no listener: local only, anonymous allowed");
    broker_config_free(&cfg);
    parse_ok(&cfg, "listener 1884\n");
    cr_assert_not(cfg.opts.allow_anonymous, "a listener: anonymous refused by default");
    broker_config_free(&cfg);
    parse_ok(&cfg, "port 1884\n");
    cr_assert_not(cfg.opts.allow_anonymous);
    broker_listener l[4];
    cr_assert_eq(broker_config_listeners(&cfg, l, 4), 1);
    cr_assert_str_eq(l[0].host, "", "port alone: every address, as mosquitto");
    broker_config_free(&cfg);
    parse_ok(&cfg, "listener 1884\nallow_anonymous true\n");
    cr_assert(cfg.opts.allow_anonymous);
    broker_config_free(&cfg);
}

Test(broker_config, security_and_persistence_options)
{
    broker_config cfg;
    parse_ok(&cfg, "listener 8883 127.0.0.1\n"
                   "password_file /etc/mqtt/pass words\n"
                   "acl_file /etc/mqtt/acl\n"
                   "certfile /c/server.crt\nkeyfile /c/server.key\ncafile /c/ca.crt\n"
                   "require_certificate true\nuse_identity_as_username true\ntls_version tlsv1.3\n"
                   "max_connections 10\nprotocol mqtt\n"
                   "persistence true\npersistence_location /var/lib/mqtt\npersistence_file b.db\n"
                   "autosave_interval 60\n");
    cr_assert_str_eq(cfg.sec.password_file, "/etc/mqtt/pass words", "paths take the rest of the line");
    cr_assert_str_eq(cfg.sec.acl_file, "/etc/mqtt/acl");
    broker_listener *l = &cfg.listeners[0];
    cr_assert_str_eq(l->certfile, "/c/server.crt");
    cr_assert_str_eq(l->keyfile, "/c/server.key");
    cr_assert_str_eq(l->cafile, "/c/ca.crt");
    cr_assert(l->require_certificate);
    cr_assert(l->use_identity_as_username);
    cr_assert_str_eq(l->tls_version, "tlsv1.3");
    cr_assert_eq(l->max_connections, 10);
    cr_assert(cfg.persistence);
    cr_assert(cfg.opts.persistence);
    cr_assert_str_eq(cfg.persistence_location, "/var/lib/mqtt");
    cr_assert_str_eq(cfg.persistence_file, "b.db");
    cr_assert_eq(cfg.autosave_interval, 60);
    broker_config_free(&cfg);
}

Test(broker_config, per_listener_settings)
{
    broker_config cfg;
    parse_ok(&cfg, "per_listener_settings true\n"
                   "listener 1884\nallow_anonymous true\n"
                   "listener 1885\npassword_file /p\nacl_file /a\n");
    broker_listener l[4];
    size_t n = broker_config_listeners(&cfg, l, 4);
    cr_assert_eq(n, 2);
    broker_security_config s0 = broker_config_security(&cfg, &l[0]), s1 = broker_config_security(&cfg, &l[1]);
    cr_assert_eq(s0.allow_anonymous, 1);
    cr_assert_null(s0.password_file);
    cr_assert_eq(s1.allow_anonymous, 0, "unset: refused once listeners are configured");
    cr_assert_str_eq(s1.password_file, "/p");
    cr_assert_str_eq(s1.acl_file, "/a");
    broker_config_free(&cfg);
    /* Without it, the last value applies to every listener. */
    parse_ok(&cfg, "listener 1884\npassword_file /p1\nlistener 1885\nallow_anonymous true\n");
    n = broker_config_listeners(&cfg, l, 4);
    s0 = broker_config_security(&cfg, &l[0]);
    cr_assert_str_eq(s0.password_file, "/p1");
    cr_assert_eq(s0.allow_anonymous, 1);
    broker_config_free(&cfg);
}

Test(broker_config, logging_options)
{
    broker_config cfg;
    parse_ok(&cfg, "log_dest stderr\nlog_dest file /tmp/my broker.log\nlog_dest syslog\n"
                   "log_type error\nlog_type warning\n");
    cr_assert_eq(cfg.nlog_dests, 3);
    cr_assert_eq(cfg.log_dests[1].kind, BROKER_LOGDEST_FILE);
    cr_assert_str_eq(cfg.log_dests[1].path, "/tmp/my broker.log");
    cr_assert_eq(cfg.log_mask, (1u << BROKER_LOG_ERROR) | (1u << BROKER_LOG_WARNING));
    broker_config_free(&cfg);
    parse_ok(&cfg, "log_type all\nlog_dest none\n");
    cr_assert(cfg.log_mask & (1u << BROKER_LOG_DEBUG));
    cr_assert(cfg.log_none);
    broker_config_free(&cfg);
}

Test(broker_config, include_dir_reads_conf_files_in_order)
{
    char dir[] = "/tmp/broker-incl-XXXXXX";
    cr_assert_not_null(mkdtemp(dir));
    char p1[300], p2[300], p3[300];
    snprintf(p1, sizeof p1, "%s/b.conf", dir);
    snprintf(p2, sizeof p2, "%s/a.conf", dir);
    snprintf(p3, sizeof p3, "%s/ignored.txt", dir);
    FILE *f = fopen(p1, "w");
    fputs("max_qos 1\n", f);
    fclose(f);
    f = fopen(p2, "w");
    fputs("max_qos 0\nmax_keepalive 30\n", f);
    fclose(f);
    f = fopen(p3, "w");
    fputs("bogus\n", f);
    fclose(f);
    char text[400];
    snprintf(text, sizeof text, "include_dir %s\n", dir);
    broker_config cfg;
    parse_ok(&cfg, text);
    cr_assert_eq(cfg.opts.max_qos, 1, "b.conf after a.conf");
    cr_assert_eq(cfg.opts.max_keepalive, 30);
    broker_config_free(&cfg);
    f = fopen(p1, "w");
    fputs("max_qos 1\nnonsense 1\n", f);
    fclose(f);
    char err[600];
    broker_config_init(&cfg);
    cr_assert_eq(broker_config_parse(&cfg, text, strlen(text), "main.conf", err, sizeof err), -1);
    char want[400];
    snprintf(want, sizeof want, "%s:2: unknown option 'nonsense'", p1);
    cr_assert_str_eq(err, want, "errors name the included file");
    broker_config_free(&cfg);
    unlink(p1);
    unlink(p2);
    unlink(p3);
    rmdir(dir);
}

/* mosquitto.conf's `protocol websockets`, per listener (issue 18). */
Test(broker_config, protocol_websockets_per_listener)
{
    broker_config cfg;
    parse_ok(&cfg, "listener 1883\nlistener 8080\nprotocol websockets\nlistener 8443\nprotocol websockets\n"
                   "certfile /c/s.crt\nkeyfile /c/s.key\nlistener 1884\nprotocol mqtt\n");
    cr_assert_eq(cfg.nlisteners, 4);
    cr_assert(!cfg.listeners[0].websockets);
    cr_assert(cfg.listeners[1].websockets);
    cr_assert(cfg.listeners[2].websockets);
    cr_assert_str_eq(cfg.listeners[2].certfile, "/c/s.crt", "TLS options of a websockets listener: wss");
    cr_assert(!cfg.listeners[3].websockets);
    broker_config_free(&cfg);
}

Test(broker_config, new_errors_name_file_and_line)
{
    struct { const char *text, *msg; } cases[] = {
        {"listener 1\nper_listener_settings true\n",
         "t.conf:2: per_listener_settings true: must come before any listener and any allow_anonymous, password_file or acl_file"},
        {"protocol mqtts\n", "t.conf:1: protocol: expected mqtt or websockets, got 'mqtts'"},
        {"tls_version tlsv1\n", "t.conf:1: tls_version: expected tlsv1.3, tlsv1.2 or tlsv1.1, got 'tlsv1'"},
        {"password_file\n", "t.conf:1: password_file: missing path"},
        {"log_dest topic\n", "t.conf:1: log_dest topic: not supported by mqtt-broker (stderr, stdout, file, syslog, none)"},
        {"log_dest carrier-pigeon\n", "t.conf:1: log_dest: unknown destination 'carrier-pigeon' (stderr, stdout, file PATH, syslog, none)"},
        {"log_type verbose\n", "t.conf:1: log_type: unknown type 'verbose' (error, warning, notice, information, debug, subscribe, unsubscribe, websockets, none, all)"},
        {"persistence maybe\n", "t.conf:1: persistence: expected true or false, got 'maybe'"},
        {"persistence_file a/b\n", "t.conf:1: persistence_file: a file name, not a path (use persistence_location)"},
        {"max_connections -2\n", "t.conf:1: max_connections: expected a number from 0 to 1000000000, got '-2'"},
        {"autosave_on_changes true\n", "t.conf:1: autosave_on_changes: a mosquitto option mqtt-broker does not implement"},
        {"include_dir /nonexistent/dir\n", "t.conf:1: include_dir: cannot open /nonexistent/dir: No such file or directory"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        broker_config cfg;
        char err[512] = "";
        broker_config_init(&cfg);
        cr_assert_eq(broker_config_parse(&cfg, cases[i].text, strlen(cases[i].text), "t.conf", err, sizeof err), -1,
                     "case %zu accepted", i);
        cr_assert_str_eq(err, cases[i].msg);
        broker_config_free(&cfg);
    }
}
