#pragma once
// The sans-I/O protocol code is private to ep_providers; this suite has providers/src on its
// include path (tests/CMakeLists.txt) to test it directly.

#include "protocols/anthropic/anthropic.hpp"
#include "protocols/claude_cli/claude_cli.hpp"
#include "protocols/codec.hpp"
#include "protocols/common/error_classify.hpp"
#include "protocols/common/sse_parser.hpp"
#include "protocols/gemini/gemini.hpp"
#include "protocols/openai/fast_chunk.hpp"
#include "protocols/openai/openai.hpp"
