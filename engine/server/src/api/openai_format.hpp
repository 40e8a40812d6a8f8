#pragma once
// The OpenAI Chat Completions wire format on ep-serve's side: a request body to a normalised
// chat_request, and responses, stream chunks and errors in OpenAI's shapes (what the official
// SDKs parse). Sans-I/O.

#include <ep/providers/types.hpp>

#include <boost/beast/http/status.hpp>
#include <boost/system/error_code.hpp>
#include <nlohmann/json.hpp>

#include <map>
#include <optional>
#include <string>
#include <variant>

namespace ep::server {

struct chat_completion_request
{
    std::string model;
    providers::chat_request request;
    bool stream = false;
    bool include_usage = false;  // stream_options.include_usage
};

struct request_problem
{
    std::string param;  // the offending field ("messages[2].role", "n", …)
    std::string message;
};

/// Reads a Chat Completions request. Unknown fields are ignored (the SDKs send many); fields we
/// read must have OpenAI's types; n > 1 is refused.
std::variant<chat_completion_request, request_problem> parse_chat_request(const nlohmann::json& body);

/// `{"error": {"message", "type", "param", "code"}}`.
nlohmann::json openai_error(std::string_view message, std::string_view type, std::string_view param = {},
                            std::string_view code = {});

/// The HTTP status, type and code of a failed gateway call (ec from the failover layer).
struct gateway_failure
{
    boost::beast::http::status status;
    std::string type;
    std::string code;
};
gateway_failure classify_failure(boost::system::error_code ec);

/// "stop", "length", "tool_calls", "content_filter".
std::string finish_reason_name(providers::finish_reason r);

/// The non-streaming `chat.completion` object.
nlohmann::json completion_json(const std::string& id, std::int64_t created, const std::string& model,
                               const providers::chat_response& r);

/// Builds the `chat.completion.chunk` objects of one streamed answer.
class chunk_writer
{
public:
    chunk_writer(std::string id, std::int64_t created, std::string model, bool include_usage);

    /// The first chunk (role) — the caller sends it before any content.
    nlohmann::json role_chunk() const;
    /// A chunk for a live event, or nullopt for events with nothing to show (usage, finish).
    std::optional<nlohmann::json> event_chunk(const providers::stream_event& ev);
    /// A new attempt started: tool-call bookkeeping restarts.
    void reset() { tool_calls_.clear(); }
    /// The model named in the chunks (the one answering: known at its first output).
    void set_model(std::string model) { model_ = std::move(model); }
    nlohmann::json finish_chunk(providers::finish_reason reason) const;
    nlohmann::json usage_chunk(const providers::usage& u) const;

private:
    nlohmann::json chunk(nlohmann::json delta, nlohmann::json finish) const;

    std::string id_;
    std::int64_t created_;
    std::string model_;
    bool include_usage_;
    std::map<int, bool> tool_calls_;  // indexes whose first delta (id, name) was sent
};

nlohmann::json usage_json(const providers::usage& u);

}  // namespace ep::server
