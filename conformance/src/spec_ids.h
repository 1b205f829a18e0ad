/* The normative statement ids of MQTT 3.1.1 and 5.0 (spec_ids.c) and lookups. */
#ifndef CONF_SPEC_IDS_H
#define CONF_SPEC_IDS_H
#include <stddef.h>

extern const char *const conf_ids_311[];
extern const size_t conf_ids_311_count;
extern const char *const conf_ids_5[];
extern const size_t conf_ids_5_count;

/* Index of id in the list for version slot vi (0 = 3.1, 1 = 3.1.1, 2 = 5.0; 3.1 uses
 * the 3.1.1 list), or -1 when the id is not a normative statement of that version. */
int conf_id_index(int vi, const char *id);
/* The list and its length for version slot vi. */
const char *const *conf_id_list(int vi, size_t *count);

/* Statements no scenario can check against a broker (untestable.c): the
 * reason for id in version slot vi, or NULL when it is testable. */
const char *conf_untestable_reason(int vi, const char *id);
/* The listed ids of version slot vi, by index (NULL past the end; *why set). */
size_t conf_untestable_count(int vi);
const char *conf_untestable_at(int vi, size_t i, const char **why);
#endif
