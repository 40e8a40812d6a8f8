#include "workflow/control_flow_reader.hpp"

namespace ep::engine::detail {

namespace {

std::size_t add_expression(const yaml_document& doc, const std::string& pointer, std::string text,
                           std::string role, std::vector<expression_source>& expressions)
{
    expressions.push_back({std::move(text), doc.at(pointer), std::move(role)});
    return expressions.size() - 1;
}

void read_repeat(const yaml_document& doc, const json& r, const std::string& pointer, phase_spec& phase,
                 std::vector<expression_source>& expressions)
{
    repeat_spec rep;
    rep.where = doc.key_at(pointer);
    if (auto from = get_string(r, "from"))
        rep.from = {*from, doc.at(pointer + "/from")};
    if (auto until = get_string(r, "until"))
    {
        rep.until = {*until, doc.at(pointer + "/until")};
        rep.until_expr = add_expression(doc, pointer + "/until", *until, "repeat.until", expressions);
    }
    rep.max_iterations = static_cast<int>(get_int(r, "max_iterations").value_or(1));
    rep.fail_when_exhausted = get_string(r, "on_exhausted").value_or("fail") != "continue";
    phase.repeat = std::move(rep);
}

void read_approval(const yaml_document& doc, const json& a, const std::string& pointer, phase_spec& phase)
{
    approval_spec gate;
    gate.where = doc.key_at(pointer);
    gate.prompt = get_string(a, "prompt").value_or("");
    gate.timeout = get_duration(a, "timeout");
    if (auto d = get_string(a, "default"))
        gate.default_approve = *d == "approve";
    phase.approval = std::move(gate);
    phase.kind = phase_kind::approval;
}

// What a gate may not have: it asks a person, not a model.
void check_gate(const yaml_document& doc, const json& p, const std::string& pointer, const phase_spec& phase,
                diagnostics& diag)
{
    for (const char* key : {"persona", "prompt", "system", "model", "output", "context", "retry", "for_each",
                            "max_tokens", "temperature", "reasoning", "cache", "on_content_filter", "max_parallel"})
        if (field(p, key))
            diag.add(doc.key_at(pointer + "/" + key),
                     "phase '" + phase.id + "' is an approval gate: it takes no '" + key +
                         "' (a gate asks a person; remove the key or the approval)");
}

}  // namespace

void read_control_flow(const yaml_document& doc, const json& p, const std::string& pointer, phase_spec& phase,
                       std::vector<expression_source>& expressions, diagnostics& diag)
{
    if (auto when = get_string(p, "when"))
    {
        phase.when = located<std::string>{*when, doc.at(pointer + "/when")};
        phase.when_expr = add_expression(doc, pointer + "/when", *when, "when", expressions);
    }
    phase.needs_any = get_bool(p, "needs_any").value_or(false);
    if (phase.needs_any && phase.needs.empty())
        diag.add(doc.key_at(pointer + "/needs_any"), "phase '" + phase.id + "' has needs_any but no needs");
    if (const json* r = field(p, "repeat"); r && r->is_object())
        read_repeat(doc, *r, pointer + "/repeat", phase, expressions);
    if (auto each = get_string(p, "for_each"))
    {
        for_each_spec fe;
        fe.expression = {*each, doc.at(pointer + "/for_each")};
        fe.expr = add_expression(doc, pointer + "/for_each", *each, "for_each", expressions);
        fe.max_parallel = static_cast<int>(get_int(p, "max_parallel").value_or(4));
        phase.for_each = std::move(fe);
    }
    else if (field(p, "max_parallel"))
        diag.add(doc.key_at(pointer + "/max_parallel"), "max_parallel is only used with for_each");
    if (const json* a = field(p, "approval"); a && a->is_object())
    {
        read_approval(doc, *a, pointer + "/approval", phase);
        check_gate(doc, p, pointer, phase, diag);
    }
    else if (!field(p, "prompt"))
        diag.add(phase.where, "phase '" + phase.id + "' has no prompt (give it a prompt, or make it a gate with "
                              "'approval: {prompt: …}')");
    phase.budget = read_budget(doc, p, pointer);
}

std::optional<budget_spec> read_budget(const yaml_document& doc, const json& obj, const std::string& pointer)
{
    const json* b = field(obj, "budget");
    if (!b || !b->is_object())
        return std::nullopt;
    budget_spec out;
    out.where = doc.key_at(pointer + "/budget");
    out.max_cost_usd = get_number(*b, "max_cost_usd");
    out.max_tokens = get_int(*b, "max_tokens");
    return out;
}

std::optional<expression_program> compile_expressions(const yaml_document& doc,
                                                      const std::vector<expression_source>& expressions,
                                                      diagnostics& diag)
{
    return expression_program::compile(expressions, diag, [&](const expression_source& s, std::size_t offset) {
        return locate_in_value(doc, s.where, s.text, offset);
    });
}

}  // namespace ep::engine::detail
