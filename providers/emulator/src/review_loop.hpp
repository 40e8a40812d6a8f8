#pragma once
// The emulator's review loop, deterministic so that a revise-until-approved workflow shows two
// passes under --emulate: a reviewer requests changes (findings RV-1, RV-2) on an implementation
// that does not say it addresses them, and approves one that quotes them; a code writer whose
// prompt carries findings quotes them back.

#include <nlohmann/json.hpp>

#include <string>
#include <vector>

namespace ep::emulator::detail {

/// The finding ids ("RV-1", …) a text mentions, in order, without duplicates.
std::vector<std::string> finding_ids(const std::string& text);

/// Whether an implementation says which review findings it addresses.
bool addresses_findings(const std::string& text);

/// The line a code writer adds when its prompt carries findings ("" when it carries none).
std::string addressed_line(const std::string& prompt);

/// The reviewer's findings for a request-changes verdict: "RV-N: message".
const std::vector<std::string>& reviewer_findings();

/// A reviewer's JSON answer (already filled from the schema) given the verdict the loop calls
/// for: `verdict` set to approve/request_changes when the schema allows it, and `findings`
/// messages carrying the finding ids.
void apply_review_verdict(nlohmann::json& value, const nlohmann::json& schema, bool approve);

}  // namespace ep::emulator::detail
