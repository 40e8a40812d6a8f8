#pragma once
// The server side of one wire protocol: parse its request body into a chat_call, render an
// answer as its streamed events or its whole JSON body, and render its error shapes.

#include "answer.hpp"
#include "chat_call.hpp"

#include <nlohmann/json.hpp>

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace ep::emulator::detail {

/// One framed SSE event, ready for the wire.
struct sse_event
{
    std::string bytes;
    bool content = false;   ///< carries a token (text or tool-argument piece): paced
    bool terminal = false;  ///< the protocol's end marker (dropped by the no-terminal fault)
    /// Opens the answer without a token yet (Anthropic content_block_start, Responses
    /// output_item.added): the first-token fault holds it back with the first content.
    bool opens_content = false;
};

struct reply
{
    unsigned status = 200;
    std::vector<std::pair<std::string, std::string>> headers;
    bool sse = false;
    std::string body;               ///< when !sse (JSON)
    std::vector<sse_event> events;  ///< when sse
};

enum class ending
{
    normal,
    content_filter,  ///< stop early with the provider's content-filter reason
};

enum class error_reason
{
    status,          ///< a plain HTTP status error
    context_length,  ///< the provider's "context length exceeded" 400
    bad_request,     ///< the request could not be parsed
    not_found,
};

/// Ids and timestamps shared by all events of one response.
struct response_ids
{
    std::string id;  ///< protocol-specific prefix already applied
    std::int64_t created = 0;
};

class wire_protocol
{
public:
    virtual ~wire_protocol() = default;
    virtual std::string_view name() const noexcept = 0;

    /// Fills `call` from the body; false with `error` set on a malformed request.
    virtual bool parse(const nlohmann::json& body, chat_call& call, std::string& error) const = 0;

    virtual reply respond(const chat_call& call, const answer& a, ending end, const response_ids& ids) const = 0;

    virtual reply error(unsigned status, error_reason reason, std::string_view message) const = 0;

    /// The in-stream "overloaded" error event (after which nothing else is sent).
    virtual std::string overloaded_event() const = 0;

    /// An event that no client can parse.
    virtual std::string malformed_event() const = 0;

    /// "chatcmpl-…", "msg_…", …
    virtual std::string id_prefix() const = 0;
};

std::unique_ptr<wire_protocol> make_openai_protocol();
std::unique_ptr<wire_protocol> make_anthropic_protocol(int ping_every);
/// `crlf`: terminate Gemini events with CRLF, as the real server has been seen to.
std::unique_ptr<wire_protocol> make_gemini_protocol(bool crlf);
std::unique_ptr<wire_protocol> make_responses_protocol();

/// `data: <json>\n\n` (and the `event:` line when `event` is given).
std::string frame(const nlohmann::json& data, std::string_view event = {}, std::string_view eol = "\n");

/// JSON text that survives invalid UTF-8 in echoed input.
std::string dump(const nlohmann::json& value);

/// Pieces of `text` cut to about the length a real model streams (the same split for every
/// protocol, so streamed text reassembles to exactly `text`).
std::vector<std::string> content_pieces(const std::string& text);

/// Text cut short for the content-filter ending.
std::string filtered_prefix(const std::string& text);

}  // namespace ep::emulator::detail
