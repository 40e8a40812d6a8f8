#pragma once
// The sans-I/O headers are private to ep_providers (providers/src is not on the tests'
// include path), so they are reached relative to this file.

#include "../../../../providers/src/sansio/error_classify.hpp"
#include "../../../../providers/src/sansio/sse_parser.hpp"
#include "../../../../providers/src/sansio/wire.hpp"
#include "../../../../providers/src/sansio/openai_fast_chunk.hpp"
