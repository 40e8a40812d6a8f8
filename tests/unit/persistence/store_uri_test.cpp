// Store URIs: which backend a --db / EP_DB value names, errors for the rest, and redaction of
// the password wherever a URI is printed. open_store end to end for SQLite.

#include "store_fixture.hpp"

#include <ep/persistence/open_store.hpp>

namespace ep::persistence::test {
namespace {

using kind = store_location::backend_kind;

store_location parsed(std::string_view uri)
{
    auto r = parse_store_uri(uri);
    EXPECT_TRUE(r) << uri << ": " << (r ? "" : r.error().to_string());
    return r ? *r : store_location{};
}

TEST(store_uri, paths_and_sqlite_uris_name_a_file)
{
    EXPECT_EQ(parsed("./.ep/runs.db").target, "./.ep/runs.db");
    EXPECT_EQ(parsed("./.ep/runs.db").backend, kind::sqlite);
    EXPECT_EQ(parsed("/var/lib/ep/runs.db").target, "/var/lib/ep/runs.db");
    EXPECT_EQ(parsed("runs.db").target, "runs.db");
    EXPECT_EQ(parsed("./odd:name.db").target, "./odd:name.db");  // a ':' after a '/' is no scheme
    EXPECT_EQ(parsed("my_runs:2.db").target, "my_runs:2.db");    // '_' cannot be in a scheme
    EXPECT_EQ(parsed("sqlite:runs.db").target, "runs.db");
    EXPECT_EQ(parsed("sqlite:/abs/runs.db").target, "/abs/runs.db");
    EXPECT_EQ(parsed("sqlite:///abs/runs.db").target, "/abs/runs.db");
    EXPECT_EQ(parsed("sqlite://rel/runs.db").target, "rel/runs.db");
    EXPECT_EQ(parsed("SQLite:runs.db").backend, kind::sqlite);
    EXPECT_EQ(parsed("sqlite:odd:name.db").target, "odd:name.db");
}

TEST(store_uri, postgres_uris_are_passed_to_libpq_as_given)
{
    for (const char* uri : {"postgres://ep@localhost/ep", "postgresql:///ep?host=/run/postgresql",
                            "postgresql://ep:secret@db.example:5432/ep?sslmode=require",
                            "postgresql://h1:5432,h2:5433/ep?target_session_attrs=read-write"})
    {
        const auto loc = parsed(uri);
        EXPECT_EQ(loc.backend, kind::postgres) << uri;
        EXPECT_EQ(loc.target, uri);
    }
}

TEST(store_uri, bad_uris_are_invalid_arguments_that_name_the_accepted_forms)
{
    struct bad_case
    {
        const char* uri;
        const char* says;
    };
    for (const auto& c :
         {bad_case{"", "empty"}, bad_case{"sqlite:", "names no file"}, bad_case{"sqlite://", "names no file"},
          bad_case{"mysql://u@h/db", "unknown store URI scheme 'mysql:'"},
          bad_case{"redis:6379", "unknown store URI scheme 'redis:'"},
          bad_case{"postgres:ep", "not a libpq URI"}, bad_case{"host=db user=ep dbname=ep", "keyword=value"}})
    {
        auto r = parse_store_uri(c.uri);
        ASSERT_FALSE(r) << c.uri;
        EXPECT_EQ(r.error().code, persistence_errc::invalid_argument) << c.uri;
        EXPECT_NE(r.error().message.find(c.says), std::string::npos) << c.uri << ": " << r.error().message;
    }
    auto unknown = parse_store_uri("mongodb://u:hunter2@h/db");
    ASSERT_FALSE(unknown);
    EXPECT_NE(unknown.error().message.find("sqlite:PATH"), std::string::npos) << unknown.error().message;
    EXPECT_NE(unknown.error().message.find("postgresql://"), std::string::npos) << unknown.error().message;
    EXPECT_EQ(unknown.error().message.find("hunter2"), std::string::npos) << unknown.error().message;
    auto kv = parse_store_uri("host=db password=hunter2");
    ASSERT_FALSE(kv);
    EXPECT_EQ(kv.error().message.find("hunter2"), std::string::npos) << kv.error().message;
}

TEST(store_uri, redaction_hides_every_password_and_keeps_the_rest)
{
    EXPECT_EQ(redact_store_uri("postgresql://ep:hunter2@db.example:5432/ep"),
              "postgresql://ep:***@db.example:5432/ep");
    EXPECT_EQ(redact_store_uri("postgres://ep:p%40ss@db/ep?sslmode=require"),
              "postgres://ep:***@db/ep?sslmode=require");
    // An '@' inside the password (unescaped) still ends at the last '@' before the host.
    EXPECT_EQ(redact_store_uri("postgres://ep:a@b@db/ep"), "postgres://ep:***@db/ep");
    EXPECT_EQ(redact_store_uri("postgresql://ep@db/ep?password=hunter2&sslmode=require"),
              "postgresql://ep@db/ep?password=***&sslmode=require");
    EXPECT_EQ(redact_store_uri("postgresql:///ep?host=/tmp&PASSWORD=x#frag"),
              "postgresql:///ep?host=/tmp&PASSWORD=***#frag");
    EXPECT_EQ(redact_store_uri("host=db password='a b\\' c' user=ep"), "host=db password=*** user=ep");
    EXPECT_EQ(redact_store_uri("host=db password = hunter2"), "host=db password = ***");
    // Nothing to hide: unchanged, including look-alikes.
    for (const char* same : {"postgresql://ep@db/ep", "postgresql://db:5432/ep", "./.ep/runs.db",
                             "postgresql://ep@db/ep?old_password_hint=1", "/tmp/password=file.db", ""})
        EXPECT_EQ(redact_store_uri(same), same);
}

using open_by_uri = store_fixture;

TEST_F(open_by_uri, every_sqlite_form_opens_the_same_file)
{
    std::string id;
    {
        auto s = persistence::open_store(db_path_.string(), options());
        ASSERT_TRUE(s) << s.error().to_string();
        id = (*s)->create_run(make_run()).value().id;
    }
    for (const auto& uri : {"sqlite:" + db_path_.string(), "sqlite://" + db_path_.string()})
    {
        store_options o;
        o.read_only = true;
        auto s = persistence::open_store(uri, o);
        ASSERT_TRUE(s) << uri << ": " << s.error().to_string();
        EXPECT_TRUE((*s)->get_run(id)) << uri;
    }
}

TEST_F(open_by_uri, the_shared_options_reach_the_backend)
{
    store_options o;
    o.read_only = true;
    auto missing = persistence::open_store(db_path_.string(), o);
    ASSERT_FALSE(missing);
    EXPECT_EQ(missing.error().code, persistence_errc::not_found);
    EXPECT_FALSE(fs::exists(db_path_));

    o.read_only = false;
    o.clock = [] { return timestamp(std::chrono::milliseconds(42'000)); };
    auto s = persistence::open_store(db_path_.string(), o);
    ASSERT_TRUE(s) << s.error().to_string();
    EXPECT_EQ((*s)->create_run(make_run()).value().created, timestamp(std::chrono::milliseconds(42'000)));
}

TEST_F(open_by_uri, an_unknown_scheme_opens_nothing)
{
    auto s = persistence::open_store("mysql://root:hunter2@localhost/ep", options());
    ASSERT_FALSE(s);
    EXPECT_EQ(s.error().code, persistence_errc::invalid_argument);
    EXPECT_EQ(s.error().message.find("hunter2"), std::string::npos) << s.error().message;
}

}  // namespace
}  // namespace ep::persistence::test
