// ep-run: the command line lives in the library (ep/engine/cli.hpp); this only calls it.
#include <ep/allocator_tuning.hpp>
#include <ep/engine/cli.hpp>

#include <exception>
#include <iostream>

int main(int argc, char** argv)
{
    ep::tune_allocator_for_throughput();
    try
    {
        return ep::engine::run_cli(argc, argv);
    }
    catch (const std::exception& e)
    {
        std::cerr << "ep-run: internal error: " << e.what() << "\n";
        return 2;
    }
}
