/*
 * Fuzz harness `roundtrip`: decode, re-encode, decode again.
 *
 * Input: selector byte (see fz_decoder_init), then a stream of packets as in
 * `decode`. For every packet that decodes:
 *   - mqtt_encoded_size and mqtt_encode accept it and agree on the size; a
 *     buffer one byte short is refused with LIMIT-buffer and left untouched;
 *   - the encoding decodes (same codec settings, other caller arrays) to an
 *     equal packet, field by field, properties included;
 *   - the encoding is canonical (fz_is_canonical) and re-encodes to itself;
 *     when the input itself is canonical the encoding is byte-identical to
 *     it, otherwise it differs;
 *   - mqtt_format_line / _json give snprintf-like results: the same length
 *     for any capacity, a NUL-terminated prefix when cut, text free of
 *     control characters and invalid UTF-8, and valid JSON;
 *   - the codec's topic matcher agrees with a reference matcher on every
 *     (filter, topic) pair seen in the input.
 * The error that ends the stream is formatted and checked too.
 */
#include "fuzz/fuzz_text.h"
#include "fuzz/fuzz_util.h"

#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_NAMES 8

typedef struct {
    mqtt_bytes topics[MAX_NAMES], filters[MAX_NAMES];
    size_t n_topics, n_filters;
} names;

static void add(mqtt_bytes *arr, size_t *n, mqtt_bytes b)
{
    if (*n < MAX_NAMES && b.len) arr[(*n)++] = b;
}

static void collect(names *nm, const mqtt_packet *pkt)
{
    if (pkt->type == MQTT_PUBLISH) add(nm->topics, &nm->n_topics, pkt->publish.topic);
    if (pkt->type == MQTT_CONNECT && pkt->connect.will) add(nm->topics, &nm->n_topics, pkt->connect.will_topic);
    if (pkt->type == MQTT_SUBSCRIBE || pkt->type == MQTT_UNSUBSCRIBE) {
        for (size_t i = 0; i < pkt->subscribe.count; i++) {
            mqtt_bytes f = pkt->subscribe.subscriptions[i].topic_filter, inner;
            if (mqtt_shared_split(f, NULL, &inner)) f = inner;
            add(nm->filters, &nm->n_filters, f);
        }
    }
}

/* Every pair, and each topic against itself and against "#" and "+/#". */
static void check_matching(const names *nm)
{
    static const uint8_t hash[] = "#", plus_hash[] = "+/#";
    for (size_t t = 0; t < nm->n_topics; t++) {
        mqtt_bytes topic = nm->topics[t];
        FZ_ASSERT(mqtt_topic_matches(topic, topic), "topic \"%.*s\" does not match itself as a filter",
                  (int)topic.len, (const char *)topic.ptr);
        bool dollar = topic.ptr[0] == '$';
        FZ_ASSERT(mqtt_topic_matches((mqtt_bytes){hash, 1}, topic) == !dollar, "\"#\" vs \"%.*s\"", (int)topic.len,
                  (const char *)topic.ptr);
        mqtt_bytes ph = {plus_hash, 3};
        FZ_ASSERT(mqtt_topic_matches(ph, topic) == fz_topic_matches(ph, topic), "\"+/#\" vs \"%.*s\"",
                  (int)topic.len, (const char *)topic.ptr);
        for (size_t f = 0; f < nm->n_filters; f++) {
            mqtt_bytes filter = nm->filters[f];
            bool got = mqtt_topic_matches(filter, topic), want = fz_topic_matches(filter, topic);
            FZ_ASSERT(got == want, "filter \"%.*s\" vs topic \"%.*s\": codec %d, reference %d", (int)filter.len,
                      (const char *)filter.ptr, (int)topic.len, (const char *)topic.ptr, got, want);
        }
    }
}

typedef size_t (*formatter)(const mqtt_packet *, mqtt_version, char *, size_t);

/* Formats *pkt with f, checks the snprintf contract and the text; returns the text (caller frees). */
static char *check_format(formatter f, bool json, const mqtt_packet *pkt, mqtt_version v)
{
    char dummy = 'x';
    size_t n = f(pkt, v, &dummy, 0);
    FZ_ASSERT(dummy == 'x', "format with capacity 0 wrote a byte");
    char *full = malloc(n + 1);
    FZ_ASSERT(full != NULL, "out of memory");
    FZ_ASSERT(f(pkt, v, full, n + 1) == n, "length depends on capacity");
    FZ_ASSERT(strlen(full) == n, "returned %zu but wrote %zu characters", n, strlen(full));
    const char *why = json ? fz_json_problem(full, n) : fz_line_problem(full, n);
    FZ_ASSERT(why == NULL, "%s of %s: %s: %s", json ? "JSON" : "line", mqtt_packet_type_name(pkt->type), why, full);
    if (n > 0) {
        size_t cap = n / 2 + 1;
        char *cut = malloc(cap);
        FZ_ASSERT(cut != NULL, "out of memory");
        FZ_ASSERT(f(pkt, v, cut, cap) == n, "cut output returns another length");
        FZ_ASSERT(strlen(cut) == cap - 1 && memcmp(cut, full, cap - 1) == 0, "cut output is not a prefix");
        free(cut);
    }
    return full;
}

static void check_error_text(const mqtt_error *err)
{
    char buf[512];
    size_t n = mqtt_format_error(err, buf, sizeof buf);
    FZ_ASSERT(n < sizeof buf && strlen(buf) == n, "error text of %zu characters", n);
    const char *why = fz_line_problem(buf, n);
    FZ_ASSERT(why == NULL, "error text: %s: %s", why, buf);
    FZ_ASSERT(strstr(buf, err->rule) != NULL, "error text does not name rule %s: %s", err->rule, buf);
}

static void roundtrip(const fz_decoder *a, const mqtt_packet *pa, const uint8_t *in)
{
    mqtt_version v = fz_packet_version(a, pa);
    const char *type = mqtt_packet_type_name(pa->type);
    mqtt_error err = {0};
    size_t size = 0;
    mqtt_status st = mqtt_encoded_size(&a->codec, pa, &size, &err);
    FZ_ASSERT(st == MQTT_OK, "decoded %s but mqtt_encoded_size refuses it: %s %s (%s)", type, mqtt_status_name(st),
              err.rule, err.message);
    FZ_ASSERT(size >= 2, "%s encodes to %zu bytes", type, size);

    /* One byte short: refused, nothing written, the size needed reported. */
    uint8_t *enc = malloc(size);
    FZ_ASSERT(enc != NULL, "out of memory");
    memset(enc, 0xA5, size);
    size_t written = 0;
    st = mqtt_encode(&a->codec, pa, enc, size - 1, &written, &err);
    FZ_ASSERT(st == MQTT_ERR_LIMIT && strcmp(err.rule, "LIMIT-buffer") == 0 && written == size,
              "%s into %zu bytes: %s %s written %zu", type, size - 1, mqtt_status_name(st), err.rule, written);
    for (size_t i = 0; i < size; i++) FZ_ASSERT(enc[i] == 0xA5, "refused encode wrote byte %zu", i);

    st = mqtt_encode(&a->codec, pa, enc, size, &written, &err);
    FZ_ASSERT(st == MQTT_OK && written == size, "%s: encode %s (%s), %zu of %zu bytes", type, mqtt_status_name(st),
              st ? err.rule : "-", written, size);

    /* Decode the encoding with the same settings into other arrays. */
    fz_decoder b;
    b = *a;
    b.codec.user_properties = a->codec.user_properties ? b.user : NULL;
    b.codec.subscription_identifiers = a->codec.subscription_identifiers ? b.subid : NULL;
    b.codec.subscriptions = a->codec.subscriptions ? b.subs : NULL;
    mqtt_packet pb;
    st = mqtt_decode(&b.codec, enc, size, &pb, &err);
    FZ_ASSERT(st == MQTT_OK, "re-encoded %s does not decode: %s %s at %zu (%s)", type, mqtt_status_name(st),
              st >= MQTT_ERR_MALFORMED ? err.rule : "-", err.offset, st >= MQTT_ERR_MALFORMED ? err.message : "");
    FZ_ASSERT(pb.length == size, "re-encoded %s decodes as %zu of %zu bytes", type, pb.length, size);
    fz_check_packet(&b, &pb, enc, size);

    bool canonical = fz_is_canonical(v, pa, in);
    fz_assert_equal(pa, &pb, v, canonical, "decode(encode(decode(input))) vs decode(input)");
    FZ_ASSERT(fz_is_canonical(v, &pb, enc), "the encoding of %s is not canonical", type);
    if (canonical)
        FZ_ASSERT(size == pa->length && memcmp(enc, in, size) == 0, "canonical %s re-encodes to other bytes", type);
    else
        FZ_ASSERT(size != pa->length || memcmp(enc, in, size) != 0, "non-canonical %s re-encodes to itself", type);

    /* Idempotence: the canonical form encodes to itself. */
    uint8_t *again = malloc(size);
    FZ_ASSERT(again != NULL, "out of memory");
    st = mqtt_encode(&b.codec, &pb, again, size, &written, &err);
    FZ_ASSERT(st == MQTT_OK && written == size && memcmp(again, enc, size) == 0, "%s: encoding is not stable", type);
    free(again);

    char *line_a = check_format(mqtt_format_line, false, pa, v);
    char *json_a = check_format(mqtt_format_json, true, pa, v);
    if (canonical) {
        char *line_b = check_format(mqtt_format_line, false, &pb, v);
        char *json_b = check_format(mqtt_format_json, true, &pb, v);
        FZ_ASSERT(strcmp(line_a, line_b) == 0, "equal packets, other lines:\n  %s\n  %s", line_a, line_b);
        FZ_ASSERT(strcmp(json_a, json_b) == 0, "equal packets, other JSON");
        free(line_b);
        free(json_b);
    }
    free(line_a);
    free(json_a);
    free(enc);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1) return 0;
    fz_decoder d;
    fz_decoder_init(&d, data[0]);
    const uint8_t *p = data + 1;
    size_t left = size - 1;
    names nm = {0};
    while (left > 0) {
        mqtt_packet pkt;
        mqtt_error err = {0};
        mqtt_status st = mqtt_decode(&d.codec, p, left, &pkt, &err);
        if (st == MQTT_NEED_MORE) break;
        if (st != MQTT_OK) {
            fz_check_error(st, &err, left);
            check_error_text(&err);
            break;
        }
        roundtrip(&d, &pkt, p);
        collect(&nm, &pkt);
        fz_decoder_after(&d, &pkt);
        p += pkt.length;
        left -= pkt.length;
    }
    check_matching(&nm);
    return 0;
}
