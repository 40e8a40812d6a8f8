// otel_tracer: spans, their OTLP/HTTP JSON encoding and the batched export over the providers'
// HTTP transport.
#include <ep/runtime/otel.hpp>

#include <ep/providers/http_client.hpp>
#include <ep/providers/tls.hpp>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <spdlog/logger.h>

#include <cstdio>

namespace ep::runtime {

namespace {

template <std::size_t N>
std::string hex(const std::array<std::uint8_t, N>& bytes)
{
    static constexpr char digits[] = "0123456789abcdef";
    std::string out;
    out.reserve(2 * N);
    for (auto b : bytes)
    {
        out += digits[b >> 4];
        out += digits[b & 15];
    }
    return out;
}

template <std::size_t N>
bool all_zero(const std::array<std::uint8_t, N>& bytes)
{
    for (auto b : bytes)
        if (b)
            return false;
    return true;
}

std::string unix_nanos(std::chrono::system_clock::time_point t)
{
    return std::to_string(std::chrono::duration_cast<std::chrono::nanoseconds>(t.time_since_epoch()).count());
}

nlohmann::json key_value(const std::string& key, nlohmann::json value)
{
    return {{"key", key}, {"value", std::move(value)}};
}

std::string trim(std::string s)
{
    const auto b = s.find_first_not_of(" \t");
    const auto e = s.find_last_not_of(" \t");
    return b == std::string::npos ? std::string{} : s.substr(b, e - b + 1);
}

// OTEL_EXPORTER_OTLP_HEADERS: "k1=v1,k2=v2" (values may be percent-encoded; kept as given).
std::vector<std::pair<std::string, std::string>> parse_headers(const std::string& text)
{
    std::vector<std::pair<std::string, std::string>> out;
    std::size_t pos = 0;
    while (pos <= text.size())
    {
        auto comma = text.find(',', pos);
        if (comma == std::string::npos)
            comma = text.size();
        const std::string item = text.substr(pos, comma - pos);
        if (auto eq = item.find('='); eq != std::string::npos)
            if (auto k = trim(item.substr(0, eq)); !k.empty())
                out.emplace_back(k, trim(item.substr(eq + 1)));
        pos = comma + 1;
    }
    return out;
}

}  // namespace

std::optional<otel_config> otel_config::from_environment(const ep::environment& env, const std::string& default_service)
{
    otel_config cfg;
    if (auto t = env.get("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"))
        cfg.traces_url = *t;
    else if (auto e = env.get("OTEL_EXPORTER_OTLP_ENDPOINT"))
    {
        cfg.traces_url = *e;
        while (!cfg.traces_url.empty() && cfg.traces_url.back() == '/')
            cfg.traces_url.pop_back();
        cfg.traces_url += "/v1/traces";
    }
    else
        return std::nullopt;
    if (auto h = env.get("OTEL_EXPORTER_OTLP_HEADERS"))
        cfg.headers = parse_headers(*h);
    cfg.service_name = env.get("OTEL_SERVICE_NAME").value_or(default_service);
    auto capture = env.get("OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT").value_or("");
    cfg.capture_content = capture == "true" || capture == "TRUE" || capture == "1";
    return cfg;
}

// ---- spans -----------------------------------------------------------------------------------

otel_span& otel_span::set(const std::string& key, const std::string& value)
{
    attributes.push_back(key_value(key, {{"stringValue", value}}));
    return *this;
}

otel_span& otel_span::set(const std::string& key, std::int64_t value)
{
    // OTLP JSON carries 64-bit integers as strings.
    attributes.push_back(key_value(key, {{"intValue", std::to_string(value)}}));
    return *this;
}

otel_span& otel_span::set(const std::string& key, double value)
{
    attributes.push_back(key_value(key, {{"doubleValue", value}}));
    return *this;
}

otel_span& otel_span::fail(const std::string& type, const std::string& message)
{
    set("error.type", type);
    status = span_status::error;
    status_message = message;
    return *this;
}

nlohmann::json otel_span::to_json() const
{
    nlohmann::json j = {{"traceId", hex(trace_id)},
                        {"spanId", hex(span_id)},
                        {"name", name},
                        {"kind", static_cast<int>(kind)},
                        {"startTimeUnixNano", unix_nanos(start)},
                        {"endTimeUnixNano", unix_nanos(end)},
                        {"attributes", attributes}};
    if (!all_zero(parent_id))
        j["parentSpanId"] = hex(parent_id);
    nlohmann::json st = {{"code", static_cast<int>(status)}};
    if (!status_message.empty())
        st["message"] = status_message;
    j["status"] = std::move(st);
    return j;
}

std::string genai_provider_name(const std::string& p)
{
    if (p == "gemini")
        return "gcp.gemini";
    if (p == "claude_code" || p == "claude_agent")
        return "anthropic";
    return p;
}

std::string error_type_of(const std::string& error_text, std::optional<int> status)
{
    if (status && *status > 0)
        return std::to_string(*status);
    auto end = error_text.find_first_of("(;:");
    std::string head = trim(error_text.substr(0, end));
    return head.empty() ? std::string("_OTHER") : head;
}

// ---- tracer ----------------------------------------------------------------------------------

otel_tracer::otel_tracer(asio::any_io_executor ex, otel_config cfg, std::shared_ptr<spdlog::logger> log)
    : ex_(ex), cfg_(std::move(cfg)), log_(std::move(log)), flush_timer_(ex), rng_(std::random_device{}())
{
}

otel_tracer::~otel_tracer() = default;

otel_span otel_tracer::start_span(std::string name, span_kind kind, const otel_span* parent)
{
    otel_span s;
    auto fill = [&](auto& bytes) {
        for (std::size_t i = 0; i < bytes.size(); i += 8)
        {
            const auto v = rng_();
            for (std::size_t k = 0; k < 8 && i + k < bytes.size(); ++k)
                bytes[i + k] = static_cast<std::uint8_t>(v >> (8 * k));
        }
    };
    if (parent)
    {
        s.trace_id = parent->trace_id;
        s.parent_id = parent->span_id;
    }
    else
        fill(s.trace_id);
    fill(s.span_id);
    s.name = std::move(name);
    s.kind = kind;
    s.start = std::chrono::system_clock::now();
    return s;
}

void otel_tracer::end_span(otel_span span)
{
    span.end = std::chrono::system_clock::now();
    pending_.push_back(std::move(span));
    if (pending_.size() >= cfg_.max_batch)
    {
        flush();
        return;
    }
    if (!flush_armed_)
    {
        flush_armed_ = true;
        flush_timer_.expires_after(cfg_.flush_interval);
        flush_timer_.async_wait([self = weak_from_this()](boost::system::error_code ec) {
            if (auto t = self.lock())
            {
                t->flush_armed_ = false;
                if (!ec)
                    t->flush();
            }
        });
    }
}

void otel_tracer::flush()
{
    if (flush_armed_)
        flush_timer_.cancel();  // its handler clears flush_armed_
    if (pending_.empty())
        return;
    std::vector<otel_span> batch;
    batch.swap(pending_);
    asio::co_spawn(ex_, [self = shared_from_this(), b = std::move(batch)]() mutable { return self->export_batch(std::move(b)); },
                   asio::detached);
}

void otel_tracer::shutdown() { flush(); }

nlohmann::json otel_tracer::envelope(const std::vector<otel_span>& batch) const
{
    nlohmann::json spans = nlohmann::json::array();
    for (const auto& s : batch)
        spans.push_back(s.to_json());
    nlohmann::json resource = {
        {"attributes", nlohmann::json::array({key_value("service.name", {{"stringValue", cfg_.service_name}})})}};
    return {{"resourceSpans",
             nlohmann::json::array({{{"resource", resource},
                                     {"scopeSpans", nlohmann::json::array({{{"scope", {{"name", "ep"}, {"version", "0.1.0"}}},
                                                                            {"spans", std::move(spans)}}})}}})}};
}

asio::awaitable<void> otel_tracer::export_batch(std::vector<otel_span> batch)
{
    auto target = providers::http_endpoint::parse(cfg_.traces_url);
    if (!target)
    {
        dropped_ += batch.size();
        log_->warn("OpenTelemetry: cannot export to '{}': not an http(s) URL", cfg_.traces_url);
        co_return;
    }
    providers::transport_options opts;
    opts.timeouts.connect = cfg_.export_timeout;
    opts.timeouts.first_byte = cfg_.export_timeout;
    opts.timeouts.idle = cfg_.export_timeout;
    if (target->tls)
    {
        auto tls = providers::make_tls_context();
        if (!tls)
        {
            dropped_ += batch.size();
            log_->warn("OpenTelemetry: no TLS context: {}", tls.error().message());
            co_return;
        }
        opts.tls = *tls;
    }
    providers::http_request req;
    req.method = "POST";
    req.target = target->path.empty() ? "/" : target->path;
    req.headers.emplace_back("Content-Type", "application/json");
    for (const auto& h : cfg_.headers)
        req.headers.push_back(h);
    req.body = envelope(batch).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
    providers::http_exchange ex(ex_, std::move(opts));
    providers::diagnostics diag;
    auto ec = co_await ex.start(*target, req, diag);
    std::string body;
    if (!ec)
        ec = co_await ex.read_all(body, 4096, diag);
    if (ec || ex.head().status / 100 != 2)
    {
        dropped_ += batch.size();
        log_->warn("OpenTelemetry: export of {} spans to {} failed: {}", batch.size(), cfg_.traces_url,
                   ec ? ec.message() : "HTTP " + std::to_string(ex.head().status));
        co_return;
    }
    exported_ += batch.size();
}

}  // namespace ep::runtime
