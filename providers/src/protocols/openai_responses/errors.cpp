// The Responses API reports failures in OpenAI's error shape and vocabulary.
#include "protocols/openai/openai.hpp"
#include "protocols/openai_responses/openai_responses.hpp"

namespace ep::providers::sansio {

namespace {

const error_mapping mapping{"openai_responses", openai_errors().types};

}  // namespace

const error_mapping& responses_errors() noexcept { return mapping; }

boost::system::error_code classify_responses_error(int status, const http_headers& headers, std::string_view body,
                                                   diagnostics& diag)
{
    return classify_http_error(mapping, status, headers, body, diag);
}

}  // namespace ep::providers::sansio
