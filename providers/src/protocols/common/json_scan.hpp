#pragma once
// A validating JSON scanner that never allocates, for decoder fast paths (openai_fast_chunk).
//
// Contract: it only ever says "yes" to text that nlohmann::json::parse also accepts, and it
// reads what it accepts the same way. Every `false` means "not sure", never "invalid": the
// caller then runs the full nlohmann parse, which decides and writes the error message. So
// the scanner may give up on valid JSON it finds unusual (escaped keys, huge numbers, deep
// nesting), but must reject everything nlohmann rejects: bad grammar, control characters and
// ill-formed UTF-8 in strings, unpaired surrogate escapes, numbers that overflow a double.

#include <cstdint>
#include <string>
#include <string_view>

namespace ep::providers::sansio {

class json_scanner
{
public:
    explicit json_scanner(std::string_view text) noexcept : p_(text.data()), end_(text.data() + text.size()) {}

    /// Only whitespace is left (nlohmann rejects trailing garbage).
    bool at_end() noexcept
    {
        skip_ws();
        return p_ == end_;
    }

    /// The next token starts with `c` (not consumed).
    bool next_is(char c) noexcept
    {
        skip_ws();
        return p_ != end_ && *p_ == c;
    }

    /// A string: `raw` is the text between the quotes with escapes still in it; `escaped`
    /// tells whether it has any (then decode with append_unescaped).
    bool string(std::string_view& raw, bool& escaped) noexcept;

    /// A number token, returned as written. Gives up on magnitudes that could overflow a
    /// double (nlohmann rejects those), i.e. more than 100 integer digits or a 3-digit exponent.
    bool number(std::string_view& token) noexcept;

    /// Exactly `word` ("null", "true", "false"); the caller checks what follows.
    bool literal(std::string_view word) noexcept;

    /// Any value, validated and skipped.
    bool skip_value(int depth = 0) noexcept;

    /// An object: for each member calls `on_member(key)`, which must consume the value and
    /// return false to give up. Keys with escapes give up (they would need decoding to compare).
    template <class F>
    bool object(F&& on_member)
    {
        if (!consume('{'))
            return false;
        if (consume('}'))
            return true;
        do
        {
            std::string_view key;
            bool escaped = false;
            if (!string(key, escaped) || escaped || !consume(':') || !on_member(key))
                return false;
        } while (consume(','));
        return consume('}');
    }

    /// An array: calls `on_element()` for each element, which must consume it.
    template <class F>
    bool array(F&& on_element)
    {
        if (!consume('['))
            return false;
        if (consume(']'))
            return true;
        do
        {
            if (!on_element())
                return false;
        } while (consume(','));
        return consume(']');
    }

private:
    void skip_ws() noexcept
    {
        while (p_ != end_ && (*p_ == ' ' || *p_ == '\n' || *p_ == '\r' || *p_ == '\t'))
            ++p_;
    }
    bool consume(char c) noexcept
    {
        if (!next_is(c))
            return false;
        ++p_;
        return true;
    }
    bool hex4(std::uint32_t& cp) noexcept;
    bool escape() noexcept;
    bool utf8_sequence() noexcept;

    const char* p_;
    const char* end_;
};

/// Appends the decoded form of `raw` (string contents accepted by json_scanner::string) to
/// `out`: the simple escapes, and \uXXXX (surrogate pairs joined) as UTF-8, as nlohmann does.
void append_unescaped(std::string_view raw, std::string& out);

}  // namespace ep::providers::sansio
