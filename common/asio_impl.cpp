// The one translation unit that compiles Boost.Asio's implementation
// and Asio SSL (BOOST_ASIO_SEPARATE_COMPILATION is set project-wide).
#include <boost/asio/impl/src.hpp>
#include <boost/asio/ssl/impl/src.hpp>
