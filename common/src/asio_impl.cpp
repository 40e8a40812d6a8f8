// The single translation unit that compiles Boost.Asio, Asio-SSL, Beast and Process v2
// (separate compilation: every other TU sees declarations only, which keeps builds fast).
#include <boost/asio/impl/src.hpp>
#include <boost/asio/ssl/impl/src.hpp>
#include <boost/beast/src.hpp>
#include <boost/process/v2/src.hpp>
