namespace ep::engine { const char* module_name() noexcept { return "engine"; } }
