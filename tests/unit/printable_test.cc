// Tests of printable() (src/core/printable.h): what a peer sends cannot
// reach the terminal as control sequences, and ordinary text is untouched.
#include <boost/test/unit_test.hpp>

#include "core/printable.h"

using qpipe::printable;

BOOST_AUTO_TEST_SUITE(printable_text)

BOOST_AUTO_TEST_CASE(ordinary_text_is_kept) {
  BOOST_TEST(printable("") == "");
  BOOST_TEST(printable("report-2026.tar.gz") == "report-2026.tar.gz");
  BOOST_TEST(printable("naïve café — 東京 🙂") == "naïve café — 東京 🙂");
  BOOST_TEST(printable("a\\x1b b") == "a\\x1b b"); // a backslash stays a backslash
}

BOOST_AUTO_TEST_CASE(control_characters_become_escapes) {
  // The sequence of the issue: clear the screen, set the title, ring the bell.
  BOOST_TEST(printable("\x1b[2J\x1b]0;pwned\x07") == "\\x1b[2J\\x1b]0;pwned\\x07");
  BOOST_TEST(printable("a\nb\rc\td") == "a\\x0ab\\x0dc\\x09d");
  BOOST_TEST(printable(std::string("a\0b", 3)) == "a\\x00b");
  BOOST_TEST(printable("\x7f") == "\\x7f");
  // C1 controls, raw (not UTF-8) and encoded: CSI is one of them.
  BOOST_TEST(printable("\x9b"
                       "31m") == "\\x9b31m");
  BOOST_TEST(printable("\xc2\x9b"
                       "31m") == "\\u009b31m");
  BOOST_TEST(printable("\xc2\x85") == "\\u0085");
}

BOOST_AUTO_TEST_CASE(reordering_characters_become_escapes) {
  BOOST_TEST(printable("invoice\xe2\x80\xaeselif.exe") == "invoice\\u202eselif.exe"); // RLO
  BOOST_TEST(printable("\xe2\x81\xa6x\xe2\x81\xa9") == "\\u2066x\\u2069");            // LRI, PDI
  BOOST_TEST(printable("\xe2\x80\x8f") == "\\u200f");                                 // RLM
}

BOOST_AUTO_TEST_CASE(bytes_that_are_not_utf8_become_escapes) {
  BOOST_TEST(printable("caf\xe9") == "caf\\xe9");                      // Latin-1
  BOOST_TEST(printable("\xc0\xaf") == "\\xc0\\xaf");                   // overlong '/'
  BOOST_TEST(printable("\xed\xa0\x80") == "\\xed\\xa0\\x80");          // a surrogate
  BOOST_TEST(printable("\xf4\x90\x80\x80") == "\\xf4\\x90\\x80\\x80"); // above U+10FFFF
  BOOST_TEST(printable("\xe2\x82") == "\\xe2\\x82");                   // cut short
  BOOST_TEST(printable("\x80") == "\\x80");                            // a lone continuation byte
}

BOOST_AUTO_TEST_CASE(the_result_is_printable_and_idempotent) {
  std::string all;
  for (int b = 0; b < 256; ++b)
    all += static_cast<char>(b);
  all += "\xe2\x80\xae\xc2\x9b\xf0\x9f\x99\x82";
  std::string once = printable(all);
  for (unsigned char c : once)
    BOOST_TEST((c >= 0x20 && c != 0x7f), "byte " << int(c) << " survived");
  BOOST_TEST(printable(once) == once);
}

BOOST_AUTO_TEST_SUITE_END()
