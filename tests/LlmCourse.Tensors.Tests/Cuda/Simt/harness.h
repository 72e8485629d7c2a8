// What every harness here shares: one line per check ("PASS what" / "FAIL what"), and last the totals line
// SimtEmulationTests reads ("N passed, M failed"), with exit code 0 only when every check passed.
#pragma once
#include <cstdio>
#include <string>

inline int simt_passed = 0, simt_failed = 0;

inline void check(bool ok, const std::string& what) {
    std::printf("%s %s\n", ok ? "PASS" : "FAIL", what.c_str());
    (ok ? simt_passed : simt_failed)++;
}

// The totals line; main returns it.
inline int simt_report() {
    std::printf("%d passed, %d failed\n", simt_passed, simt_failed);
    return simt_failed == 0 ? 0 : 1;
}
