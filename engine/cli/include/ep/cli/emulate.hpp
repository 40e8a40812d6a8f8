#pragma once
// `ep-run --emulate`: the development emulator inside ep-run, on the run's io_context, with
// every HTTP provider pointed at it. The only place the emulator is linked into a program
// besides ep-emulator itself and the tests.

#include <ep/cli/cli.hpp>
#include <ep/emulator/emulator.hpp>

#include <boost/asio/io_context.hpp>

#include <memory>

namespace ep::cli {

using emulator_handle = emulator::emulator;

/// Starts the emulator on `ioc` (pacing from EP_EMULATOR_FIRST_TOKEN_MS and
/// EP_EMULATOR_TOKENS_PER_SECOND, development knobs) and says so on ctx.err unless --quiet.
std::unique_ptr<emulator_handle> start_emulator(boost::asio::io_context& ioc, cli_context& ctx);

}  // namespace ep::cli
