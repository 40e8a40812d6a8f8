// The three HTTP protocols, as codecs for http_provider.

#include "adapters/http_provider.hpp"

namespace ep::providers::adapters {

http_codec openai_codec()
{
    return {"openai", sansio::encode_openai_request, sansio::make_openai_decoder};
}

http_codec anthropic_codec()
{
    return {"anthropic", sansio::encode_anthropic_request, sansio::make_anthropic_decoder};
}

http_codec gemini_codec()
{
    return {"gemini", sansio::encode_gemini_request, [] { return sansio::make_gemini_decoder(); }};
}

}  // namespace ep::providers::adapters
