// ep-run: the command line lives in ep::cli (ep/cli/cli.hpp); this only calls it.
#include <ep/allocator_tuning.hpp>
#include <ep/cli/cli.hpp>

#include <exception>
#include <iostream>

int main(int argc, char** argv)
{
    ep::tune_allocator_for_throughput();
    try
    {
        return ep::cli::run_cli(argc, argv);
    }
    catch (const std::exception& e)
    {
        std::cerr << "ep-run: internal error: " << e.what() << "\n";
        return 2;
    }
}
