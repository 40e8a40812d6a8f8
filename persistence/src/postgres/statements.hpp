#pragma once
// Every statement postgres_store runs on the hot path, prepared once per connection (by name).

#include <span>

namespace ep::persistence::postgres {

struct prepared_statement
{
    const char* name;
    const char* sql;
};

/// All of them, registered with each new connection.
std::span<const prepared_statement> prepared_statements() noexcept;

}  // namespace ep::persistence::postgres
