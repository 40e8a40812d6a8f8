// ep-serve: the command line lives in ep::server (ep/server/serve_cli.hpp); this only calls it.
#include <ep/allocator_tuning.hpp>
#include <ep/server/serve_cli.hpp>

#include <exception>
#include <iostream>

int main(int argc, char** argv)
{
    ep::tune_allocator_for_throughput();
    try
    {
        return ep::server::run_serve_cli(argc, argv);
    }
    catch (const std::exception& e)
    {
        std::cerr << "ep-serve: internal error: " << e.what() << "\n";
        return 2;
    }
}
