/* Selecting scenarios (--filter) and planning runs (versions x repeats, skips, deviations). */
#ifndef CONF_PLAN_H
#define CONF_PLAN_H
#include "conformance/src/engine.h"
#include "conformance/src/profile.h"

/* Does scenario s match the filter expression (comma-separated terms, any
 * matching selects): area:X, tag:X, rule:ID, id:GLOB, or a plain word that
 * equals the area, a tag or a rule id, or is a substring of the id or title. */
bool conf_filter_match(const conf_scenario *s, const char *filter);

/* Builds the runs of the selected scenarios for the versions in vmask, each
 * `repeat` times. Skips (profile lacks a capability or a version) get V_SKIP
 * with a reason; deviations are attached. Returns the count (*out malloc'd). */
size_t conf_plan(conf_scenario **sc, size_t nsc, unsigned vmask, int repeat, conf_profile *prof, conf_run **out);
#endif
