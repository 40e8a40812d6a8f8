namespace ep::persistence { const char* module_name() noexcept { return "persistence"; } }
