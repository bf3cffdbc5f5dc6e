#define BOOST_TEST_MODULE qpipe
#include <boost/test/unit_test.hpp>
