// ep-worker: the command line lives in ep::worker (ep/worker/worker.hpp); this only calls it.
#include <ep/worker/worker.hpp>

#include <exception>
#include <iostream>

int main(int argc, char** argv)
{
    try
    {
        return ep::worker::run_worker_cli(argc, argv);
    }
    catch (const std::exception& e)
    {
        std::cerr << "ep-worker: internal error: " << e.what() << "\n";
        return 2;
    }
}
