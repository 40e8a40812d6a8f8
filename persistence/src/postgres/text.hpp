#pragma once
// PostgreSQL's text type holds valid UTF-8 without NUL characters; SQLite stores any bytes.
// Model output can carry either (a "\u0000" escape, a stream cut inside a character), and a
// checkpoint must not fail on it: such text is stored with U+FFFD in place of each bad byte.

#include <string>

namespace ep::persistence::postgres {

/// `text` itself when it is valid UTF-8 without NUL; otherwise a copy with every NUL and every
/// byte that does not start a valid UTF-8 sequence replaced by U+FFFD.
std::string storable_text(const std::string& text);

}  // namespace ep::persistence::postgres
