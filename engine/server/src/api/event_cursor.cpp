#include "api/event_cursor.hpp"

#include <ep/runtime/event_hub.hpp>

#include <algorithm>
#include <charconv>

namespace ep::server {

namespace {

// The store-only record of a phase's conversation (engine/src/run/run_state.hpp): part of the
// phase's block, never sent.
constexpr std::string_view conversation_event = "phase_conversation";
constexpr std::size_t max_id_length = 4096;

bool valid_instance(std::string_view k)
{
    if (k.empty() || k.size() > 200)
        return false;
    return std::all_of(k.begin(), k.end(), [](char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-' ||
               c == '@' || c == '#' || c == '^';
    });
}

std::optional<std::int64_t> parse_count(std::string_view s)
{
    if (s.empty() || s.size() > 18)
        return std::nullopt;
    std::int64_t v = 0;
    auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    if (ec != std::errc{} || end != s.data() + s.size() || v < 0)
        return std::nullopt;
    return v;
}

void advance(seen_position& p, const seen_position& src)
{
    if (src.events > p.events || (src.events == p.events && src.text > p.text))
    {
        p.events = src.events;
        p.text = src.text;
    }
}

}  // namespace

std::optional<event_cursor> event_cursor::parse(std::string_view id)
{
    if (id.empty() || id.size() > max_id_length)
        return std::nullopt;
    event_cursor c;
    std::size_t pos = 0;
    bool first = true;
    while (pos <= id.size())
    {
        auto end = id.find('~', pos);
        if (end == std::string_view::npos)
            end = id.size();
        const auto part = id.substr(pos, end - pos);
        if (first)
        {
            auto seq = parse_count(part);
            if (!seq)
                return std::nullopt;
            c.seq_ = c.last_seq_ = *seq;
            first = false;
        }
        else
        {
            const auto colon = part.find(':');
            if (colon == std::string_view::npos)
                return std::nullopt;
            const auto key = part.substr(0, colon);
            const auto rest = part.substr(colon + 1);
            if (!valid_instance(key) || c.seen_.count(std::string(key)))
                return std::nullopt;
            seen_position p;
            if (rest == "done")
                p.done = true;
            else
            {
                const auto colon2 = rest.find(':');
                if (colon2 == std::string_view::npos)
                    return std::nullopt;
                auto e = parse_count(rest.substr(0, colon2));
                auto t = parse_count(rest.substr(colon2 + 1));
                if (!e || !t)
                    return std::nullopt;
                p.events = *e;
                p.text = *t;
            }
            if (!p.empty())
                c.seen_.emplace(std::string(key), p);
        }
        pos = end + 1;
    }
    return c;
}

std::string event_cursor::id() const
{
    std::string s = std::to_string(seq_);
    for (const auto& [key, p] : seen_)
    {
        if (p.empty())
            continue;
        s += '~';
        s += key;
        s += p.done ? std::string(":done") : ":" + std::to_string(p.events) + ":" + std::to_string(p.text);
    }
    return s;
}

std::optional<nlohmann::json> event_cursor::take(const std::string& instance, std::string_view type,
                                                 nlohmann::json event, seen_position& src)
{
    auto& p = seen_[instance];
    std::optional<nlohmann::json> out;
    if (p.done)
    {
        // The client saw the whole block, its closing event included.
    }
    else if (runtime::closes_block(type))
    {
        // Never skipped unless seen: a block whose checkpoint failed is stored shorter than it
        // streamed, but its closing event still says how the phase ended.
        p.done = true;
        out = std::move(event);
    }
    else if (type == "text_delta")
    {
        const std::string text = event.value("text", std::string{});
        const auto length = static_cast<std::int64_t>(text.size());
        std::int64_t seen = 0;
        if (p.events > src.events)
            seen = length;
        else if (p.events == src.events)
            seen = std::clamp<std::int64_t>(p.text - src.text, 0, length);
        src.text += length;
        if (seen < length)
        {
            event["text"] = text.substr(static_cast<std::size_t>(seen));
            out = std::move(event);
        }
        advance(p, src);
    }
    else
    {
        const bool seen = p.events > src.events;
        src.events += 1;
        src.text = 0;
        if (!seen)
            out = std::move(event);
        advance(p, src);
    }
    if (p.empty())
        seen_.erase(instance);
    return out;
}

void event_cursor::close_block()
{
    if (!open_block_)
        return;
    seq_ = last_seq_;
    seen_.erase(*open_block_);
    committed_.insert(*open_block_);
    stored_src_.erase(*open_block_);
    open_block_.reset();
}

std::optional<nlohmann::json> event_cursor::take_stored(const persistence::event_record& e)
{
    if (e.seq <= last_seq_)
        return std::nullopt;
    auto instance = runtime::event_instance(e.type, e.payload);
    if (open_block_ && *open_block_ != instance)
        close_block();  // the previous block ended with the event before this one
    last_seq_ = e.seq;
    if (!open_block_)
    {
        open_block_ = instance;
        stored_src_[instance] = {};
    }
    if (e.type == "run_started")
    {
        auto it = seen_.find(instance);
        if (it == seen_.end() || !it->second.done)
        {
            // A session the client has not seen: what it saw of uncommitted blocks before
            // belonged to executions that died with their process.
            seen_.clear();
            committed_.clear();
        }
    }
    if (e.type == conversation_event)
        return std::nullopt;
    nlohmann::json ev = {{"type", e.type}, {"ts", engine::format_rfc3339(e.ts)}, {"run_id", e.run_id}};
    if (e.payload.is_object())
        for (auto it = e.payload.begin(); it != e.payload.end(); ++it)
            ev[it.key()] = it.value();
    return take(instance, e.type, std::move(ev), stored_src_[instance]);
}

void event_cursor::end_of_stored() { close_block(); }

std::optional<nlohmann::json> event_cursor::take_live(const engine::run_event& ev)
{
    auto instance = runtime::event_instance(ev.type, ev.fields);
    if (committed_.count(instance))
        return std::nullopt;
    return take(instance, ev.type, ev.to_json(), live_src_[instance]);
}

}  // namespace ep::server
