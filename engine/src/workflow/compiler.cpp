// workflow_spec -> dag, with every semantic check that needs the whole graph.
#include "text/suggest.hpp"
#include "yaml/json_access.hpp"

#include <ep/engine/dag.hpp>
#include <ep/engine/error.hpp>
#include <ep/engine/policy.hpp>

#include <algorithm>
#include <map>

namespace ep::engine {

std::optional<std::size_t> dag::index_of(std::string_view id) const
{
    for (std::size_t i = 0; i < ids_.size(); ++i)
        if (ids_[i] == id)
            return i;
    return std::nullopt;
}

std::optional<std::size_t> dag::loop_of_owner(std::size_t owner) const
{
    for (std::size_t l = 0; l < loops_.size(); ++l)
        if (loops_[l].owner == owner)
            return l;
    return std::nullopt;
}

bool dag::is_upstream(std::size_t upstream, std::size_t phase) const
{
    return phase < upstream_.size() && upstream < upstream_[phase].size() && upstream_[phase][upstream];
}

namespace {

source_location template_location(const workflow_spec& spec, const located<std::string>& text, std::size_t offset)
{
    if (!spec.document)
        return text.where;
    return detail::locate_in_value(*spec.document, text.where, text.value, offset);
}

// Finds one cycle among `remaining` nodes (those Kahn's algorithm could not order), following
// `needs` from `start`; returns it in data-flow order (a -> b means b needs a), closed.
std::vector<std::size_t> find_cycle(std::size_t start, const std::vector<std::vector<std::size_t>>& needs,
                                    const std::vector<bool>& remaining)
{
    std::vector<std::size_t> path;
    std::vector<int> position(needs.size(), -1);
    std::size_t node = start;
    while (position[node] < 0)
    {
        position[node] = static_cast<int>(path.size());
        path.push_back(node);
        std::size_t next = node;
        for (auto n : needs[node])
            if (remaining[n])
            {
                next = n;
                break;
            }
        if (next == node)
            return {};  // cannot happen for a remaining node; be safe
        node = next;
    }
    std::vector<std::size_t> cycle(path.begin() + position[node], path.end());
    // `path` follows needs (b -> a when b needs a); print data flow, starting at the phase
    // written first so the message does not depend on where the search began.
    std::reverse(cycle.begin(), cycle.end());
    auto first = std::min_element(cycle.begin(), cycle.end());
    std::rotate(cycle.begin(), first, cycle.end());
    cycle.push_back(cycle.front());
    return cycle;
}

}  // namespace

namespace detail {

// What the passes of compile() share: the graph being built, the phase index, and the errors.
struct compile_state
{
    compile_state(const workflow_spec& s, const policy* p, diagnostics& d) : spec(s), personas(p), diag(d) {}

    const workflow_spec& spec;
    const policy* personas;
    diagnostics& diag;
    dag g;
    std::map<std::string, std::size_t, std::less<>> index;
    std::vector<std::string> ids;
    bool cycles = false;
    bool other_errors = false;

    std::size_t size() const noexcept { return spec.phases.size(); }
    void error(source_location where, std::string message)
    {
        diag.add(std::move(where), std::move(message));
        other_errors = true;
    }

    void resolve_needs();
    void check_personas();
    std::vector<bool> order_levels();
    void report_cycles(const std::vector<bool>& ordered);
    void compute_upstream();
    bool check_upstream(std::size_t i, const std::string& other, const source_location& where,
                        const std::string& what);
    void check_template(std::size_t i, const located<std::string>& text, const parsed_template& tpl,
                        const std::vector<std::string>& input_names);
    void check_references();
    void check_loops();
    void nest_loops();
    bool in_any_loop_with(std::size_t phase, std::size_t other) const;
};

// Pass 1: phase ids (duplicates), then every `needs` resolved to an index.
void compile_state::resolve_needs()
{
    const std::size_t n = size();
    for (std::size_t i = 0; i < n; ++i)
    {
        const auto& p = spec.phases[i];
        if (!index.emplace(p.id, i).second)
            error(p.where, "duplicate phase id '" + p.id + "'");
        ids.push_back(p.id);
    }
    g.ids_ = ids;
    g.needs_.resize(n);
    g.dependents_.resize(n);
    for (std::size_t i = 0; i < n; ++i)
    {
        const auto& p = spec.phases[i];
        for (const auto& need : p.needs)
        {
            if (need.value == p.id)
            {
                error(need.where, "phase '" + p.id + "' needs itself");
                continue;
            }
            auto it = index.find(need.value);
            if (it == index.end())
            {
                error(need.where, "phase '" + p.id + "' needs unknown phase '" + need.value + "'" +
                                         detail::did_you_mean(need.value, ids));
                continue;
            }
            auto& needs = g.needs_[i];
            if (std::find(needs.begin(), needs.end(), it->second) == needs.end())
                needs.push_back(it->second);
        }
    }
    for (std::size_t i = 0; i < n; ++i)
        for (auto need : g.needs_[i])
            g.dependents_[need].push_back(i);
    for (auto& d : g.dependents_)
        std::sort(d.begin(), d.end());
}

// Pass 2: every phase has a persona the policy knows.
void compile_state::check_personas()
{
    std::vector<std::string> names;
    if (personas)
        for (const auto& [name, persona] : personas->personas)
            names.push_back(name);
    for (const auto& p : spec.phases)
    {
        if (p.kind == phase_kind::approval || p.kind == phase_kind::command)
            continue;  // a gate asks a person; a command runs a program
        if (p.persona.value.empty())
            error(p.where, "phase '" + p.id + "' has no persona (set 'persona' or 'defaults.persona')");
        else if (personas && !personas->find_persona(p.persona.value))
            error(p.persona.where,
                  "unknown persona '" + p.persona.value + "'" + detail::did_you_mean(p.persona.value, names));
    }
}

// Pass 3: Kahn's algorithm, level by level (ties keep document order). Returns which phases
// could be ordered; the rest sit on cycles.
std::vector<bool> compile_state::order_levels()
{
    const std::size_t n = size();
    std::vector<std::size_t> pending(n);
    for (std::size_t i = 0; i < n; ++i)
        pending[i] = g.needs_[i].size();
    g.level_of_.assign(n, 0);
    std::vector<std::size_t> current;
    for (std::size_t i = 0; i < n; ++i)
        if (pending[i] == 0)
            current.push_back(i);
    std::vector<bool> ordered(n, false);
    while (!current.empty())
    {
        std::vector<std::size_t> next;
        for (auto i : current)
        {
            ordered[i] = true;
            g.level_of_[i] = g.levels_.size();
            g.order_.push_back(i);
            for (auto d : g.dependents_[i])
                if (--pending[d] == 0)
                    next.push_back(d);
        }
        std::sort(next.begin(), next.end());
        g.levels_.push_back(std::move(current));
        current = std::move(next);
    }
    return ordered;
}

// Pass 4: one message per cycle among the phases Kahn could not order, with its path.
void compile_state::report_cycles(const std::vector<bool>& ordered)
{
    const std::size_t n = size();
    if (g.order_.size() == n)
        return;
    std::vector<bool> remaining(n);
    for (std::size_t i = 0; i < n; ++i)
        remaining[i] = !ordered[i];
    std::vector<bool> reported(n, false);
    for (std::size_t i = 0; i < n; ++i)
    {
        if (!remaining[i] || reported[i])
            continue;
        auto cycle = find_cycle(i, g.needs_, remaining);
        if (cycle.empty())
            continue;
        bool seen = false;
        for (auto c : cycle)
            seen = seen || reported[c];
        for (auto c : cycle)
            reported[c] = true;
        if (seen)
            continue;
        std::string path;
        for (std::size_t k = 0; k < cycle.size(); ++k)
            path += (k ? " -> " : "") + ids[cycle[k]];
        diag.add(spec.phases[cycle.front()].where, "dependency cycle: " + path);
        cycles = true;
    }
}

// Pass 5: transitive upstream sets, in topological order (phases on cycles get partial sets).
void compile_state::compute_upstream()
{
    const std::size_t n = size();
    g.upstream_.assign(n, std::vector<bool>(n, false));
    for (auto i : g.order_)
        for (auto need : g.needs_[i])
        {
            g.upstream_[i][need] = true;
            for (std::size_t k = 0; k < n; ++k)
                if (g.upstream_[need][k])
                    g.upstream_[i][k] = true;
        }
}

// Whether phase `i` may read `other` (it exists, is not `i`, and is upstream of it).
bool compile_state::check_upstream(std::size_t i, const std::string& other, const source_location& where,
                    const std::string& what)
{
    const auto& p = spec.phases[i];
    auto it = index.find(other);
    if (it == index.end())
    {
        error(where, what + " unknown phase '" + other + "'" + detail::did_you_mean(other, ids));
        return false;
    }
    if (it->second == i)
    {
        error(where, "phase '" + p.id + "' cannot use its own output");
        return false;
    }
    if (!cycles && !g.upstream_[i][it->second])
    {
        error(where, "phase '" + p.id + "' uses '" + other + "', which it does not need (add '" + other +
                            "' to its needs)");
        return false;
    }
    return true;
}

void compile_state::check_template(std::size_t i, const located<std::string>& text, const parsed_template& tpl,
                                   const std::vector<std::string>& input_names)
{
    using k = template_ref::kind_type;
    const auto& p = spec.phases[i];
    for (const auto& ref : tpl.refs())
    {
        auto where = template_location(spec, text, ref.offset);
        switch (ref.kind)
        {
        case k::input:
            if (!spec.find_input(ref.name))
                error(where, "unknown input '" + ref.name + "' in " + ref.text +
                                 detail::did_you_mean(ref.name, input_names));
            break;
        case k::loop_iteration:
            if (!g.innermost_.at(i))
                error(where, ref.text + " in phase '" + p.id + "', which is in no loop body");
            break;
        case k::item:
        case k::index:
            if (!p.for_each)
                error(where, ref.text + " in phase '" + p.id + "', which has no for_each");
            break;
        case k::previous_output:
        case k::previous_json:
            if (!index.count(ref.name))
                error(where, ref.text + " refers to unknown phase '" + ref.name + "'" + detail::did_you_mean(ref.name, ids));
            else if (!in_any_loop_with(i, index.at(ref.name)))
                error(where, ref.text + ": phase '" + ref.name + "' is not in a loop body with phase '" + p.id +
                                 "' (previous.ID reads the previous iteration of the same loop)");
            break;
        case k::phase_output:
        case k::phase_json:
        case k::phase_outputs:
        {
            if (!check_upstream(i, ref.name, where, "template " + ref.text + " refers to"))
                break;
            const auto& other = spec.phases[index.at(ref.name)];
            if (ref.kind == k::phase_outputs && !other.for_each)
                error(where, ref.text + ": phase '" + ref.name + "' has no for_each (use phases." + ref.name +
                                 ".output)");
            // A gate's json is its decision {approved, comment, by, at}; a fan-out's is an array; a
            // command phase's is its result ({exit_code, stdout, …}); `files: true` lists its files.
            if (ref.kind == k::phase_json && other.output.format != output_format::json && !other.for_each &&
                other.kind != phase_kind::approval && other.kind != phase_kind::command && !other.files)
                error(where, "phase '" + ref.name + "' has text output; use {{ phases." + ref.name +
                                 ".output }} or give it 'output: {format: json}'");
            break;
        }
        }
    }
}

bool compile_state::in_any_loop_with(std::size_t phase, std::size_t other) const
{
    for (const auto& l : g.loops_)
        if (l.body[phase] && l.body[other])
            return true;
    return false;
}

// Pass 7: each `repeat` names an ancestor (or itself) as `from`; its body is every phase on a
// path from `from` to the owner; bodies of different loops are disjoint or nested.
void compile_state::check_loops()
{
    const std::size_t n = size();
    for (std::size_t p = 0; p < n; ++p)
    {
        const auto& ph = spec.phases[p];
        if (!ph.repeat)
            continue;
        auto it = index.find(ph.repeat->from.value);
        if (it == index.end())
        {
            error(ph.repeat->from.where, "repeat.from names unknown phase '" + ph.repeat->from.value + "'" +
                                             detail::did_you_mean(ph.repeat->from.value, ids));
            continue;
        }
        const std::size_t from = it->second;
        if (from != p && (cycles || !g.upstream_[p][from]))
        {
            error(ph.repeat->from.where, "repeat.from '" + ph.repeat->from.value + "' must be phase '" + ph.id +
                                             "' itself or one of its ancestors (a phase it needs, directly or not)");
            continue;
        }
        loop_info loop{p, from, std::vector<bool>(n, false), std::nullopt};
        for (std::size_t x = 0; x < n; ++x)
            loop.body[x] = (x == from || g.upstream_[x][from]) && (x == p || g.upstream_[p][x]);
        g.loops_.push_back(std::move(loop));
    }
    nest_loops();
}

void compile_state::nest_loops()
{
    auto& loops = g.loops_;
    auto body_size = [](const loop_info& l) { return std::count(l.body.begin(), l.body.end(), true); };
    std::stable_sort(loops.begin(), loops.end(),
                     [&](const loop_info& a, const loop_info& b) { return body_size(a) < body_size(b); });
    for (std::size_t a = 0; a < loops.size(); ++a)
        for (std::size_t b = a + 1; b < loops.size(); ++b)
        {
            bool shared = false, a_in_b = true;
            for (std::size_t x = 0; x < size(); ++x)
            {
                shared = shared || (loops[a].body[x] && loops[b].body[x]);
                a_in_b = a_in_b && (!loops[a].body[x] || loops[b].body[x]);
            }
            if (shared && !a_in_b)
                error(spec.phases[loops[a].owner].repeat->where,
                      "the loop of '" + ids[loops[a].owner] + "' and the loop of '" + ids[loops[b].owner] +
                          "' overlap; loop bodies must be disjoint or one inside the other");
            else if (a_in_b && !loops[a].parent)
                loops[a].parent = b;  // the smallest loop holding it: the first found
        }
    g.innermost_.assign(size(), std::nullopt);
    for (std::size_t x = 0; x < size(); ++x)
        for (std::size_t l = 0; l < loops.size() && !g.innermost_[x]; ++l)
            if (loops[l].body[x])
                g.innermost_[x] = l;
}

// Pass 6: what templates and `context:` read exists and is upstream.
void compile_state::check_references()
{
    std::vector<std::string> input_names;
    for (const auto& in : spec.inputs)
        input_names.push_back(in.name);
    for (std::size_t i = 0; i < size(); ++i)
    {
        const auto& p = spec.phases[i];
        check_template(i, p.prompt, p.prompt_template, input_names);
        if (p.system && p.system_template)
            check_template(i, *p.system, *p.system_template, input_names);
        if (p.command)
        {
            for (const auto& arg : p.command->argv_templates)
                check_template(i, arg.text, arg.tpl, input_names);
            if (p.command->script_template)
                check_template(i, p.command->script_template->text, p.command->script_template->tpl, input_names);
        }
        for (const auto& c : p.context.phases)
            check_upstream(i, c.value, c.where, "context refers to");
        if (p.context.continue_phase)
            check_upstream(i, p.context.continue_phase->value, p.context.continue_phase->where,
                           "context.continue refers to");
    }
}

}  // namespace detail

boost::system::result<dag> compile(const workflow_spec& spec, const policy* personas, diagnostics& diag)
{
    const std::size_t before = diag.size();
    detail::compile_state st(spec, personas, diag);
    st.resolve_needs();
    st.check_personas();
    st.report_cycles(st.order_levels());
    st.compute_upstream();
    st.check_loops();
    st.check_references();
    if (diag.size() != before)
        return make_error_code(st.cycles && !st.other_errors ? workflow_errc::cycle_detected
                                                             : workflow_errc::invalid_workflow);
    return std::move(st.g);
}

}  // namespace ep::engine
