#pragma once
// forwarding_store: a `store` that passes every call to another one, noting the thread each
// call ran on and counting group commits; end_batch can be made to report a failure. For
// tests of async_store over any backend.

#include <ep/persistence/store.hpp>

#include <atomic>
#include <memory>
#include <thread>

namespace ep::persistence::test {

class forwarding_store : public store
{
public:
    explicit forwarding_store(std::unique_ptr<store> inner) : inner_(std::move(inner)) {}

    std::atomic<std::thread::id> last_thread{};
    std::atomic<int> batches{0};
    /// end_batch reports disk_full (after the inner batch did commit: what is under test is
    /// that every call of the batch learns the batch's error).
    bool fail_end_batch = false;

    result<run_record> create_run(run_record r) override { return note(), inner_->create_run(std::move(r)); }
    result<run_record> get_run(const std::string& id) override { return note(), inner_->get_run(id); }
    result<std::vector<run_record>> list_runs(const run_filter& f) override
    {
        return note(), inner_->list_runs(f);
    }
    using store::list_runs;
    result<void> set_run_status(const std::string& id, run_status s, const std::string& e) override
    {
        return note(), inner_->set_run_status(id, s, e);
    }
    result<void> set_run_mix(const std::string& id, const std::string& m) override
    {
        return note(), inner_->set_run_mix(id, m);
    }
    result<void> set_run_options(const std::string& id, const nlohmann::json& o) override
    {
        return note(), inner_->set_run_options(id, o);
    }
    result<run_record> acquire_lease(const std::string& id, const std::string& o,
                                     std::chrono::milliseconds t) override
    {
        return note(), inner_->acquire_lease(id, o, t);
    }
    result<void> renew_lease(const std::string& id, const std::string& o) override
    {
        return note(), inner_->renew_lease(id, o);
    }
    result<void> release_lease(const std::string& id, const std::string& o) override
    {
        return note(), inner_->release_lease(id, o);
    }
    result<void> begin_phase(const std::string& id, const std::string& p, int iteration,
                             std::optional<int> item) override
    {
        return note(), inner_->begin_phase(id, p, iteration, item);
    }
    result<void> record_attempt(const attempt_record& a) override
    {
        return note(), inner_->record_attempt(a);
    }
    using store::commit_phase;
    result<std::int64_t> commit_phase(const phase_record& p, const std::vector<event_record>& e,
                                      const std::vector<attempt_record>& a) override
    {
        return note(), inner_->commit_phase(p, e, a);
    }
    result<std::int64_t> append_events(const std::string& id, const std::vector<event_record>& e) override
    {
        return note(), inner_->append_events(id, e);
    }
    result<std::vector<phase_record>> get_phases(const std::string& id) override
    {
        return note(), inner_->get_phases(id);
    }
    result<phase_record> get_phase(const std::string& id, const std::string& p, int iteration,
                                   std::optional<int> item) override
    {
        return note(), inner_->get_phase(id, p, iteration, item);
    }
    result<void> copy_phases(const std::string& from, const std::string& to,
                             const std::vector<std::string>& ids) override
    {
        return note(), inner_->copy_phases(from, to, ids);
    }
    result<std::vector<attempt_record>> get_attempts(const std::string& id,
                                                     const std::optional<std::string>& p) override
    {
        return note(), inner_->get_attempts(id, p);
    }
    result<std::vector<event_record>> get_events(const std::string& id, std::int64_t after,
                                                 std::size_t n) override
    {
        return note(), inner_->get_events(id, after, n);
    }
    result<void> integrity_check() override { return note(), inner_->integrity_check(); }
    result<bool> begin_batch() override
    {
        auto r = inner_->begin_batch();
        if (r && *r)
            ++batches;
        return r;
    }
    result<void> end_batch() override
    {
        auto r = inner_->end_batch();
        if (fail_end_batch)
            return store_error(make_error_code(persistence_errc::disk_full),
                               "injected: the batch did not commit");
        return r;
    }

private:
    void note() { last_thread = std::this_thread::get_id(); }
    std::unique_ptr<store> inner_;
};

}  // namespace ep::persistence::test
