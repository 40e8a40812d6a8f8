#pragma once
// A thin RAII view over a cached sqlite3_stmt: typed binds and columns, and a reset when the
// scope ends so the cached statement is immediately reusable (and releases its read snapshot).

#include <ep/persistence/records.hpp>

#include <sqlite3.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace ep::persistence::sqlite {

class statement
{
public:
    explicit statement(sqlite3_stmt* s) noexcept : stmt_(s) {}
    ~statement()
    {
        if (stmt_ == nullptr)
            return;
        sqlite3_reset(stmt_);
        sqlite3_clear_bindings(stmt_);
    }
    statement(statement&& other) noexcept : stmt_(other.stmt_), bind_rc_(other.bind_rc_)
    {
        other.stmt_ = nullptr;
    }
    statement(const statement&) = delete;
    statement& operator=(const statement&) = delete;
    statement& operator=(statement&&) = delete;

    // Binds are 1-based like SQLite's. A failing bind is remembered and reported by step(), so
    // call sites stay linear.
    statement& bind(int i, std::string_view v)
    {
        // SQLITE_TRANSIENT: SQLite copies the text, so temporaries (json dumps) are safe.
        return check(sqlite3_bind_text64(stmt_, i, v.data(), v.size(), SQLITE_TRANSIENT, SQLITE_UTF8));
    }
    statement& bind(int i, const std::string& v) { return bind(i, std::string_view(v)); }
    statement& bind(int i, const char* v) { return bind(i, std::string_view(v)); }
    statement& bind(int i, std::int64_t v) { return check(sqlite3_bind_int64(stmt_, i, v)); }
    statement& bind(int i, int v) { return check(sqlite3_bind_int64(stmt_, i, v)); }
    statement& bind(int i, double v) { return check(sqlite3_bind_double(stmt_, i, v)); }
    statement& bind(int i, timestamp t)
    {
        return bind(i, static_cast<std::int64_t>(t.time_since_epoch().count()));
    }
    statement& bind_null(int i) { return check(sqlite3_bind_null(stmt_, i)); }
    template <class T>
    statement& bind(int i, const std::optional<T>& v)
    {
        return v ? bind(i, *v) : bind_null(i);
    }
    /// Binds NULL for an empty string (nullable text columns such as runs.owner).
    statement& bind_or_null(int i, const std::string& v) { return v.empty() ? bind_null(i) : bind(i, v); }

    /// SQLITE_ROW, SQLITE_DONE or an error code (a failed bind's code first).
    int step() noexcept { return bind_rc_ != SQLITE_OK ? bind_rc_ : sqlite3_step(stmt_); }

    bool is_null(int col) const noexcept { return sqlite3_column_type(stmt_, col) == SQLITE_NULL; }
    std::int64_t int64(int col) const noexcept { return sqlite3_column_int64(stmt_, col); }
    double real(int col) const noexcept { return sqlite3_column_double(stmt_, col); }
    std::string text(int col) const
    {
        const auto* p = reinterpret_cast<const char*>(sqlite3_column_text(stmt_, col));
        return p ? std::string(p, static_cast<std::size_t>(sqlite3_column_bytes(stmt_, col))) : std::string();
    }
    timestamp time(int col) const noexcept { return timestamp(std::chrono::milliseconds(int64(col))); }
    std::optional<timestamp> opt_time(int col) const noexcept
    {
        return is_null(col) ? std::nullopt : std::optional<timestamp>(time(col));
    }

private:
    statement& check(int rc) noexcept
    {
        if (rc != SQLITE_OK && bind_rc_ == SQLITE_OK)
            bind_rc_ = rc;
        return *this;
    }

    sqlite3_stmt* stmt_;
    int bind_rc_ = SQLITE_OK;
};

}  // namespace ep::persistence::sqlite
