// YAML → protobuf by reflection, with positions for every error.
#include "core/config/proto_yaml.h"

#include <cerrno>
#include <cstdlib>
#include <limits>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "google/protobuf/descriptor.h"

namespace proxy::config {
namespace {

using google::protobuf::Descriptor;
using google::protobuf::EnumValueDescriptor;
using google::protobuf::FieldDescriptor;
using google::protobuf::Message;
using google::protobuf::Reflection;

void AddError(std::vector<ProtoYamlError>* errors, SourcePos pos, std::string message) {
  errors->push_back({pos, std::move(message)});
}

std::string FieldNames(const Descriptor* d) {
  std::vector<std::string> names;
  for (int i = 0; i < d->field_count(); ++i) names.push_back(d->field(i)->name());
  return names.empty() ? std::string("none") : absl::StrJoin(names, ", ");
}

// Sets (or adds, for repeated fields) one scalar value.
void SetScalar(const YamlNode& node, const FieldDescriptor* field, Message* message,
               std::vector<ProtoYamlError>* errors) {
  const Reflection* r = message->GetReflection();
  const bool repeated = field->is_repeated();
  const std::string& text = node.value;
  auto bad = [&](absl::string_view what) {
    AddError(errors, node.pos, absl::StrCat(field->name(), ": '", text, "' is not ", what));
  };
  if (node.kind != YamlNode::Kind::kScalar) {
    AddError(errors, node.pos,
             absl::StrCat(field->name(), ": expected a single value, found ", node.KindName()));
    return;
  }
  switch (field->cpp_type()) {
    case FieldDescriptor::CPPTYPE_STRING:
      repeated ? r->AddString(message, field, text) : r->SetString(message, field, text);
      return;
    case FieldDescriptor::CPPTYPE_BOOL: {
      if (text != "true" && text != "false") return bad("\"true\" or \"false\"");
      const bool v = text == "true";
      repeated ? r->AddBool(message, field, v) : r->SetBool(message, field, v);
      return;
    }
    case FieldDescriptor::CPPTYPE_INT32: {
      int32_t v;
      if (!absl::SimpleAtoi(text, &v)) return bad("a 32-bit integer");
      repeated ? r->AddInt32(message, field, v) : r->SetInt32(message, field, v);
      return;
    }
    case FieldDescriptor::CPPTYPE_INT64: {
      int64_t v;
      if (!absl::SimpleAtoi(text, &v)) return bad("a 64-bit integer");
      repeated ? r->AddInt64(message, field, v) : r->SetInt64(message, field, v);
      return;
    }
    case FieldDescriptor::CPPTYPE_UINT32: {
      uint32_t v;
      if (text.empty() || text[0] == '-' || !absl::SimpleAtoi(text, &v)) {
        return bad("a non-negative 32-bit integer");
      }
      repeated ? r->AddUInt32(message, field, v) : r->SetUInt32(message, field, v);
      return;
    }
    case FieldDescriptor::CPPTYPE_UINT64: {
      uint64_t v;
      if (text.empty() || text[0] == '-' || !absl::SimpleAtoi(text, &v)) {
        return bad("a non-negative integer");
      }
      repeated ? r->AddUInt64(message, field, v) : r->SetUInt64(message, field, v);
      return;
    }
    case FieldDescriptor::CPPTYPE_DOUBLE:
    case FieldDescriptor::CPPTYPE_FLOAT: {
      double v;
      if (!absl::SimpleAtod(text, &v)) return bad("a number");
      if (field->cpp_type() == FieldDescriptor::CPPTYPE_DOUBLE) {
        repeated ? r->AddDouble(message, field, v) : r->SetDouble(message, field, v);
      } else {
        const float f = static_cast<float>(v);
        repeated ? r->AddFloat(message, field, f) : r->SetFloat(message, field, f);
      }
      return;
    }
    case FieldDescriptor::CPPTYPE_ENUM: {
      const EnumValueDescriptor* value = field->enum_type()->FindValueByName(text);
      if (value == nullptr) {
        std::vector<std::string> names;
        for (int i = 0; i < field->enum_type()->value_count(); ++i) {
          names.push_back(field->enum_type()->value(i)->name());
        }
        return bad(absl::StrCat("a valid value (valid: ", absl::StrJoin(names, ", "), ")"));
      }
      repeated ? r->AddEnum(message, field, value) : r->SetEnum(message, field, value);
      return;
    }
    case FieldDescriptor::CPPTYPE_MESSAGE:
      break;
  }
  AddError(errors, node.pos, absl::StrCat(field->name(), ": expected a mapping"));
}

void FillValue(const YamlNode& node, const FieldDescriptor* field, Message* message,
               std::vector<ProtoYamlError>* errors) {
  const Reflection* r = message->GetReflection();
  if (node.alias || node.anchored || !node.tag.empty()) {
    AddError(errors, node.pos,
             absl::StrCat(field->name(), ": YAML aliases, anchors and tags are not supported"));
    return;
  }
  if (field->is_map()) {
    AddError(errors, node.pos, absl::StrCat(field->name(), ": map fields are not supported"));
    return;
  }
  if (field->is_repeated() && node.kind == YamlNode::Kind::kSequence) {
    for (const YamlNodePtr& item : node.items) {
      if (field->cpp_type() == FieldDescriptor::CPPTYPE_MESSAGE) {
        if (item->kind != YamlNode::Kind::kMapping) {
          AddError(errors, item->pos,
                   absl::StrCat(field->name(), ": expected a mapping, found ", item->KindName()));
          continue;
        }
        FillMessageFromYaml(*item, r->AddMessage(message, field), errors);
      } else {
        SetScalar(*item, field, message, errors);
      }
    }
    return;
  }
  if (field->is_repeated()) {
    AddError(errors, node.pos,
             absl::StrCat(field->name(), ": expected a list, found ", node.KindName()));
    return;
  }
  if (field->cpp_type() == FieldDescriptor::CPPTYPE_MESSAGE) {
    if (node.kind != YamlNode::Kind::kMapping) {
      AddError(errors, node.pos,
               absl::StrCat(field->name(), ": expected a mapping, found ", node.KindName()));
      return;
    }
    FillMessageFromYaml(node, r->MutableMessage(message, field), errors);
    return;
  }
  SetScalar(node, field, message, errors);
}

}  // namespace

void FillMessageFromYaml(const YamlNode& node, google::protobuf::Message* message,
                         std::vector<ProtoYamlError>* errors) {
  const Descriptor* descriptor = message->GetDescriptor();
  if (node.kind != YamlNode::Kind::kMapping) {
    AddError(errors, node.pos,
             absl::StrCat("expected a mapping of settings (", FieldNames(descriptor),
                          "), found ", node.KindName()));
    return;
  }
  std::vector<const FieldDescriptor*> seen;
  for (const auto& [key, value] : node.entries) {
    if (key->kind != YamlNode::Kind::kScalar) {
      AddError(errors, key->pos, "setting names must be plain strings");
      continue;
    }
    const FieldDescriptor* field = descriptor->FindFieldByName(key->value);
    if (field == nullptr) {
      AddError(errors, key->pos,
               absl::StrCat("unknown setting '", key->value, "' (valid: ", FieldNames(descriptor),
                            ")"));
      continue;
    }
    if (std::find(seen.begin(), seen.end(), field) != seen.end()) {
      AddError(errors, key->pos, absl::StrCat(field->name(), ": set twice"));
      continue;
    }
    seen.push_back(field);
    if (value->kind == YamlNode::Kind::kNull && !value->alias) {
      AddError(errors, value->pos, absl::StrCat(field->name(), ": value is empty"));
      continue;
    }
    FillValue(*value, field, message, errors);
  }
}

}  // namespace proxy::config
