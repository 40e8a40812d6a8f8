#include "adapters/secrets.hpp"

#include <ep/common/redact.hpp>

#include <cctype>

namespace ep::providers::adapters {

namespace {

// A masked key ("sk-…abcdefghijkl") still identifies it; 12 characters is what servers that
// mask keys were seen to keep. A secret shorter than that is scrubbed whole only.
constexpr std::size_t tail_length = 12;

void add(redactor& r, const std::string& secret)
{
    if (secret.empty())
        return;
    r.add_secret(secret);
    if (secret.size() > tail_length)
        r.add_secret(secret.substr(secret.size() - tail_length));
}

// Extra headers that carry credentials (Authorization, api-key, x-…-token, …); the others
// (organisation ids, beta flags) are not secrets, and scrubbing them would garble messages.
bool is_credential_header(std::string name)
{
    for (auto& c : name)
        c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    for (const char* word : {"auth", "key", "token", "secret", "cookie", "password"})
        if (name.find(word) != std::string::npos)
            return true;
    return false;
}

}  // namespace

void scrub_secrets(diagnostics& diag, const provider_config& cfg, const std::vector<std::string>& more)
{
    redactor r;
    add(r, cfg.api_key);
    for (auto const& [name, value] : cfg.extra_headers)
        if (is_credential_header(name))
            add(r, value);
    for (auto const& s : more)
        add(r, s);
    if (r.empty())
        return;
    for (std::string* text : {&diag.message, &diag.provider_type, &diag.provider_message})
        if (!text->empty())
            *text = r.scrub(*text);
}

}  // namespace ep::providers::adapters
