# Expectation files of the raw suites (run-peer.sh: third-party brokers;
# run-clients.sh: real clients), sourced by both. One line per run (or glob of
# runs) that does not pass:
#   ID-GLOB@VERSION-GLOB  VERDICT  "the specification's words that justify it"
# The first matching line wins; '#' starts a comment; VERDICT may list
# alternatives (`fail|pass`) only for a run known to vary, and such runs are
# left out of the comparison of two rounds. Counters: pass, fail (the caller's).

# "ID@VERSION VERDICT" per run of a report.json (one run per line there;
# quotes inside strings are escaped, so the first `"verdict": "` is the key).
verdicts() {
    sed -n 's/^ *{"id": "\([^"]*\)", "area": "[^"]*", "version": "\([^"]*\)",.*"verdict": "\([^"]*\)", "seconds".*/\1@\2 \3/p' "$1"
}

# Loads expectation FILE... (in that order) into pats[] want[] used[] src[].
expect_load() {
    pats=() want=() used=() src=()
    local line pat v f
    for f in "$@"; do
        [ -f "$f" ] || { echo "FAIL: no expectation file $f"; fail=$((fail + 1)); continue; }
        while IFS= read -r line; do
            line=${line%%#*}
            read -r pat v _ <<< "$line"
            [ -n "${pat:-}" ] || continue
            pats+=("$pat") want+=("$v") used+=(0) src+=("$f")
        done < "$f"
    done
}

# Judges every run of REPORT against the expectations; LABEL names the round
# in failure lines.
expect_judge() {
    local label=$1 report=$2 key got k exp
    while read -r key got; do
        exp=pass
        for k in "${!pats[@]}"; do
            # shellcheck disable=SC2053  # the pattern is a glob on purpose
            if [[ $key == ${pats[$k]} ]]; then exp=${want[$k]}; used[$k]=1; break; fi
        done
        if [[ "|$exp|" == *"|$got|"* ]]; then pass=$((pass + 1))
        else fail=$((fail + 1)); echo "FAIL $label: $key is $got, expected $exp"; fi
    done < <(verdicts "$report")
}

# The verdicts of REPORT without the runs whose expectation lists alternatives.
expect_stable() {
    local key got k
    while read -r key got; do
        for k in "${!pats[@]}"; do
            # shellcheck disable=SC2053
            if [[ $key == ${pats[$k]} ]]; then [[ ${want[$k]} == *"|"* ]] && continue 2; break; fi
        done
        echo "$key $got"
    done < <(verdicts "$1")
}
