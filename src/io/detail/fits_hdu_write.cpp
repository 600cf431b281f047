#include "io/detail/fits_hdu_write.hpp"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <array>
#include <stdexcept>
#include <string>
#include <vector>

#include "core/error.hpp"
#include "io/fits_card.hpp"

namespace zm::fitswrite {
namespace {

bool is_long_string(const FitsCard& card) {
  const auto* s = std::get_if<std::string>(&card.value);
  return s && fitscard::quoted_length(*s) > 70;
}

// COMMENT texts already in the current HDU (cfitsio adds its FITS-reference boilerplate when creating it).
std::vector<std::string> existing_comments(fitsfile* f, const AtomicOutput& out) {
  int nkeys = 0, more = 0, status = 0;
  fits_get_hdrspace(f, &nkeys, &more, &status);
  std::vector<std::string> texts;
  char card[FLEN_CARD];
  for (int i = 1; i <= nkeys && !status; ++i) {
    fits_read_record(f, i, card, &status);
    fitscard::ParsedLine p = fitscard::parse_line(card);
    if (p.kind == fitscard::LineKind::Comment) texts.push_back(std::move(p.text));
  }
  check(status, out, "cannot read back the new header");
  return texts;
}

struct ExistingCard {
  int position = 0;  // 1-based; 0 when the key is absent
  std::string comment;
};

ExistingCard find_card(fitsfile* f, const std::string& key, const AtomicOutput& out) {
  char text[FLEN_CARD];
  int status = 0;
  if (fits_read_card(f, key.c_str(), text, &status) == KEY_NO_EXIST) {
    fits_clear_errmsg();
    return {};
  }
  int nkeys = 0, next = 0;
  fits_get_hdrpos(f, &nkeys, &next, &status);  // `next` is the card after the one just found
  check(status, out, "cannot look up header card " + key);
  return {next - 1, fitscard::parse_line(text).card.comment};
}

// Puts `card` at 1-based position `pos`, shifting the following cards down.
void insert_card(fitsfile* f, const FitsCard& card, int pos, const AtomicOutput& out) {
  int status = 0;
  if (is_long_string(card)) {
    char before[FLEN_CARD];
    fits_read_record(f, pos - 1, before, &status);  // makes `pos` the insertion point of fits_insert_key_*
    fits_insert_key_longstr(f, card.key.c_str(), fitscard::printable(std::get<std::string>(card.value)).c_str(),
                            fitscard::printable(card.comment).c_str(), &status);
  } else {
    fits_insert_record(f, pos, fitscard::format_card(card).c_str(), &status);
  }
  check(status, out, "cannot write header card " + card.key);
}

}  // namespace

void check(int status, const AtomicOutput& out, const std::string& what) {
  if (status == 0) return;
  // cfitsio's text for a failed write says nothing of the cause; the OS does (a full disk: ENOSPC).
  const int os_error = errno;
  const bool io = status == WRITE_ERROR || status == FILE_NOT_CREATED;
  throw OutputError(out.final_path().string(), what + ": " + (io && os_error != 0 ? std::string(std::strerror(os_error)) + "; " : "") +
                                                  cfitsio_error_text(status));
}

FitsFilePtr create_fits(const AtomicOutput& out) {
  fitsfile* raw = nullptr;
  int status = 0;
  // fits_create_diskfile: the name is used literally (no "!" clobber or filter syntax).
  fits_create_diskfile(&raw, out.temp_path().c_str(), &status);
  FitsFilePtr f(raw);
  check(status, out, "cannot create the temporary FITS file");
  return f;
}

void create_image(fitsfile* f, int bitpix, std::span<const LONGLONG> naxes, const AtomicOutput& out) {
  int status = 0;
  fits_create_imgll(f, bitpix, static_cast<int>(naxes.size()), const_cast<LONGLONG*>(naxes.data()), &status);
  check(status, out, "cannot create the image HDU");
}

void write_card(fitsfile* f, const FitsCard& card, const AtomicOutput& out) {
  int status = 0;
  if (is_long_string(card)) {
    // Long strings (paths, object lists) keep their full text through the CONTINUE convention.
    fits_write_key_longstr(f, card.key.c_str(), fitscard::printable(std::get<std::string>(card.value)).c_str(),
                           fitscard::printable(card.comment).c_str(), &status);
  } else {
    fits_write_record(f, fitscard::format_card(card).c_str(), &status);
  }
  check(status, out, "cannot write header card " + card.key);
}

void update_card(fitsfile* f, const FitsCard& card, const AtomicOutput& out) {
  int status = 0;
  const auto* text = std::get_if<std::string>(&card.value);
  if ((card.key == "HISTORY" || card.key == "COMMENT") && text) {
    if (card.key == "HISTORY")
      fits_write_history(f, fitscard::printable(*text).c_str(), &status);
    else
      fits_write_comment(f, fitscard::printable(*text).c_str(), &status);
    check(status, out, "cannot write " + card.key);
    return;
  }
  ExistingCard old = find_card(f, card.key, out);
  if (old.position == 0) return write_card(f, card, out);
  fits_delete_key(f, card.key.c_str(), &status);  // also removes the CONTINUE cards of a long string
  check(status, out, "cannot replace header card " + card.key);
  FitsCard replacement = card;
  if (replacement.comment.empty()) replacement.comment = std::move(old.comment);  // as FitsHeader::set does
  insert_card(f, replacement, old.position, out);
}

// Copies the cards we do not generate ourselves; typed values keep their FITS type. A COMMENT identical to one
// the new HDU already has is written once, so copying a header does not grow it on every round trip.
void write_header_cards(fitsfile* f, const FitsHeader& header, const AtomicOutput& out) {
  std::vector<std::string> present = existing_comments(f, out);
  for (const FitsCard& card : header.cards()) {
    if (is_structural_key(card.key) || !fitscard::is_standard_key(card.key)) continue;
    if (card.key == "HISTORY" || card.key == "COMMENT" || card.key == "CONTINUE") continue;
    write_card(f, card, out);
  }
  int status = 0;
  for (const std::string& h : header.history()) fits_write_history(f, fitscard::printable(h).c_str(), &status);
  for (const std::string& c : header.comments()) {
    auto dup = std::find(present.begin(), present.end(), c);
    if (dup != present.end()) {
      present.erase(dup);
      continue;
    }
    fits_write_comment(f, fitscard::printable(c).c_str(), &status);
  }
  check(status, out, "cannot write HISTORY/COMMENT cards");
}

void begin_extension(fitsfile* f, int bitpix, int width, int height, const std::string& extname,
                     const FitsHeader& header, const AtomicOutput& out) {
  std::array<LONGLONG, 2> naxes = {width, height};
  create_image(f, bitpix, naxes, out);
  int status = 0;
  fits_write_key_str(f, "EXTNAME", fitscard::printable(extname).c_str(), "", &status);
  check(status, out, "cannot write EXTNAME");
  write_header_cards(f, header, out);
}

void write_pixels(fitsfile* f, int datatype, LONGLONG first, std::size_t n, const void* data,
                  const AtomicOutput& out) {
  int status = 0;
  fits_write_img(f, datatype, first, static_cast<LONGLONG>(n), const_cast<void*>(data), &status);
  check(status, out, "cannot write the pixels");
}

void validate_extension(const FitsExtension& ext, const std::filesystem::path& path) {
  std::size_t n = static_cast<std::size_t>(std::max(ext.width, 0)) * static_cast<std::size_t>(std::max(ext.height, 0));
  bool one = ext.u8.empty() != ext.f32.empty();
  std::size_t size = ext.u8.empty() ? ext.f32.size() : ext.u8.size();
  if (ext.width <= 0 || ext.height <= 0 || !one || size != n)
    throw std::invalid_argument(path.string() + ": extension '" + ext.extname +
                                "' needs width, height > 0 and exactly one of u8 / f32 with width * height values");
}

void write_extension(fitsfile* f, const FitsExtension& ext, const AtomicOutput& out) {
  bool bytes = !ext.u8.empty();
  begin_extension(f, bytes ? BYTE_IMG : FLOAT_IMG, ext.width, ext.height, ext.extname, ext.header, out);
  if (bytes)
    write_pixels(f, TBYTE, 1, ext.u8.size(), ext.u8.data(), out);
  else
    write_pixels(f, TFLOAT, 1, ext.f32.size(), ext.f32.data(), out);
}

void finish(FitsFilePtr& f, AtomicOutput& out) {
  check(close_fits(f), out, "cannot flush and close the FITS file");
  out.commit();
}

}  // namespace zm::fitswrite
