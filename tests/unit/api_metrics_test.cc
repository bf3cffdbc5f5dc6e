// Tests of the Prometheus text writer (src/api/metrics.h): the exposition
// format, byte for byte, and the escaping it requires.
#include <boost/test/unit_test.hpp>

#include <cmath>
#include <cstdint>
#include <limits>
#include <stdexcept>

#include "api/metrics.h"

namespace qpipe::api {

BOOST_AUTO_TEST_SUITE(api_metrics)

BOOST_AUTO_TEST_CASE(exposition_format) {
  MetricsWriter w;
  w.family("qpipe_transfers_total", "Transfers started, by role.", MetricType::counter);
  w.sample(3, {{"role", "send"}});
  w.sample(uint64_t{18446744073709551615u}, {{"role", "listen"}});
  w.family("qpipe_rate_bytes", "Current rate.", MetricType::gauge);
  w.sample(1.5);
  w.sample(-2, {{"a", "x"}, {"b", "y"}});
  w.family("qpipe_misc", "Help with \\ and\nnewline.", MetricType::untyped);
  w.sample(0.1);
  BOOST_TEST(w.text() == "# HELP qpipe_transfers_total Transfers started, by role.\n"
                         "# TYPE qpipe_transfers_total counter\n"
                         "qpipe_transfers_total{role=\"send\"} 3\n"
                         "qpipe_transfers_total{role=\"listen\"} 18446744073709551615\n"
                         "# HELP qpipe_rate_bytes Current rate.\n"
                         "# TYPE qpipe_rate_bytes gauge\n"
                         "qpipe_rate_bytes 1.5\n"
                         "qpipe_rate_bytes{a=\"x\",b=\"y\"} -2\n"
                         "# HELP qpipe_misc Help with \\\\ and\\nnewline.\n"
                         "# TYPE qpipe_misc untyped\n"
                         "qpipe_misc 0.1\n");
}

BOOST_AUTO_TEST_CASE(label_values_are_escaped) {
  BOOST_TEST(escape_label_value("plain") == "plain");
  BOOST_TEST(escape_label_value("a\"b\\c\nd") == "a\\\"b\\\\c\\nd");
  MetricsWriter w;
  w.family("m", "h", MetricType::gauge);
  w.sample(1, {{"peer", "host \"x\"\n"}});
  BOOST_TEST(w.text().find("m{peer=\"host \\\"x\\\"\\n\"} 1\n") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(special_values) {
  BOOST_TEST(format_metric_value(std::numeric_limits<double>::quiet_NaN()) == "NaN");
  BOOST_TEST(format_metric_value(std::numeric_limits<double>::infinity()) == "+Inf");
  BOOST_TEST(format_metric_value(-std::numeric_limits<double>::infinity()) == "-Inf");
  BOOST_TEST(format_metric_value(1e21) == "1e+21");
  BOOST_TEST(format_metric_value(0.0) == "0");
}

BOOST_AUTO_TEST_CASE(bad_names_and_order_are_refused) {
  MetricsWriter w;
  BOOST_CHECK_THROW(w.sample(1), std::logic_error);
  BOOST_CHECK_THROW(w.family("1abc", "h", MetricType::gauge), std::invalid_argument);
  BOOST_CHECK_THROW(w.family("a-b", "h", MetricType::gauge), std::invalid_argument);
  w.family("ns:metric_1", "h", MetricType::gauge);
  BOOST_CHECK_THROW(w.family("ns:metric_1", "h", MetricType::gauge), std::invalid_argument);
  BOOST_CHECK_THROW(w.sample(1, {{"a:b", "x"}}), std::invalid_argument);
  BOOST_CHECK_THROW(w.sample(1, {{"__reserved", "x"}}), std::invalid_argument);
  BOOST_CHECK_THROW(w.sample(1, {{"", "x"}}), std::invalid_argument);
}

BOOST_AUTO_TEST_SUITE_END()

} // namespace qpipe::api
