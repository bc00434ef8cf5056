package io.dalang.runtime.http;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.JsonParseException;
import com.fasterxml.jackson.core.StreamReadConstraints;
import com.fasterxml.jackson.core.exc.StreamConstraintsException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.exc.MismatchedInputException;
import io.dalang.protocols.error.DalangException;
import io.dalang.protocols.error.ErrorCode;
import java.io.IOException;
import java.util.stream.Collectors;

/**
 * The one JSON mapper configuration (the edges, the CLI and the tools), and request parsing that turns
 * Jackson's errors into typed ones.
 */
public final class Json {
  public static final ObjectMapper MAPPER = new ObjectMapper()
      .configure(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES, false)
      .configure(DeserializationFeature.FAIL_ON_NULL_FOR_PRIMITIVES, true)
      .configure(DeserializationFeature.ACCEPT_FLOAT_AS_INT, false);

  /** The same mapper, indenting what it writes: reports and summaries that people read and diff. */
  public static final ObjectMapper PRETTY = MAPPER.copy().enable(com.fasterxml.jackson.databind.SerializationFeature.INDENT_OUTPUT);

  /** For definitions (admin API): an unknown field is an error, not ignored. */
  private static final ObjectMapper STRICT = strict();

  private static ObjectMapper strict() {
    ObjectMapper m = MAPPER.copy().configure(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES, true)
        .configure(com.fasterxml.jackson.databind.MapperFeature.ALLOW_COERCION_OF_SCALARS, false);
    // A number or boolean where a string belongs (and the reverse) is the wrong type, not converted.
    var fail = com.fasterxml.jackson.databind.cfg.CoercionAction.Fail;
    var textual = m.coercionConfigFor(com.fasterxml.jackson.databind.type.LogicalType.Textual);
    for (var shape : new com.fasterxml.jackson.databind.cfg.CoercionInputShape[] {com.fasterxml.jackson.databind.cfg.CoercionInputShape.Integer,
        com.fasterxml.jackson.databind.cfg.CoercionInputShape.Float, com.fasterxml.jackson.databind.cfg.CoercionInputShape.Boolean}) {
      textual.setCoercion(shape, fail);
    }
    m.coercionConfigFor(com.fasterxml.jackson.databind.type.LogicalType.Integer)
        .setCoercion(com.fasterxml.jackson.databind.cfg.CoercionInputShape.String, fail)
        .setCoercion(com.fasterxml.jackson.databind.cfg.CoercionInputShape.Float, fail);
    return m;
  }

  private Json() {}

  static {
    limitNesting(io.dalang.protocols.openai.RequestLimits.DEFAULTS.nestingDepth());
  }

  /**
   * Request bodies may nest JSON at most {@code depth} deep ({@code dalang.limits.nesting-depth}); deeper
   * is refused while parsing, before anything is built from it. Set once, when the node starts.
   */
  public static synchronized void limitNesting(int depth) {
    var constraints = StreamReadConstraints.builder().maxNestingDepth(depth).build();
    MAPPER.getFactory().setStreamReadConstraints(constraints);
    PRETTY.getFactory().setStreamReadConstraints(constraints);
    STRICT.getFactory().setStreamReadConstraints(constraints);
  }

  private static DalangException tooDeep(ObjectMapper mapper) {
    return io.dalang.protocols.openai.RequestValidation.overCap("body", "the request body nests JSON too deep",
        mapper.getFactory().streamReadConstraints().getMaxNestingDepth() + " levels");
  }

  /** Reads an OpenAI-style request: fields Dalang does not know are ignored (clients send many). */
  public static <T> T parse(byte[] body, Class<T> type) {
    return parse(body, type, MAPPER);
  }

  /** Reads a definition strictly: unknown fields, wrong types, bad JSON are typed errors naming the field. */
  public static <T> T parseStrict(byte[] body, Class<T> type) {
    return parse(body, type, STRICT);
  }

  private static <T> T parse(byte[] body, Class<T> type, ObjectMapper mapper) {
    if (body.length == 0) throw new DalangException(ErrorCode.MALFORMED_JSON, "the request body is empty; send a JSON object");
    try {
      T value = mapper.readValue(body, type);
      if (value == null) throw new DalangException(ErrorCode.INVALID_REQUEST, "the request body must be a JSON object");
      return value;
    } catch (StreamConstraintsException e) {
      throw tooDeep(mapper);
    } catch (JsonParseException e) {
      throw new DalangException(ErrorCode.MALFORMED_JSON, "the request body is not valid JSON (line "
          + e.getLocation().getLineNr() + ", column " + e.getLocation().getColumnNr() + ")");
    } catch (com.fasterxml.jackson.databind.exc.UnrecognizedPropertyException e) {
      throw new DalangException(ErrorCode.INVALID_REQUEST, "unknown field '" + e.getPropertyName() + "'; known fields: "
          + e.getKnownPropertyIds(), e.getPropertyName(), 0);
    } catch (MismatchedInputException e) {
      String field = e.getPath().stream()
          .map(r -> r.getFieldName() != null ? r.getFieldName() : "[" + r.getIndex() + "]")
          .collect(Collectors.joining(".")).replace(".[", "[");
      if (field.isEmpty()) throw new DalangException(ErrorCode.INVALID_REQUEST, "the request body must be a JSON object");
      String expected = e.getTargetType() == null ? "another type" : simpleType(e.getTargetType());
      throw new DalangException(ErrorCode.INVALID_REQUEST, "'" + field + "' has the wrong type: expected " + expected, field, 0);
    } catch (JsonProcessingException e) {
      // Jackson wraps syntax errors met while binding (e.g. a body cut short) in a mapping exception.
      for (Throwable c = e.getCause(); c != null; c = c.getCause()) {
        if (c instanceof StreamConstraintsException) throw tooDeep(mapper);
        if (c instanceof JsonParseException) throw new DalangException(ErrorCode.MALFORMED_JSON, "the request body is not valid JSON");
      }
      throw new DalangException(ErrorCode.INVALID_REQUEST, "the request body could not be read as the expected JSON object");
    } catch (IOException e) {
      throw new DalangException(ErrorCode.MALFORMED_JSON, "the request body could not be read");
    }
  }

  private static String simpleType(Class<?> t) {
    if (t == String.class) return "a string";
    if (t == Integer.class || t == int.class || t == Long.class || t == long.class) return "an integer";
    if (t == Double.class || t == double.class) return "a number";
    if (t == Boolean.class || t == boolean.class) return "a boolean";
    if (java.util.List.class.isAssignableFrom(t)) return "an array";
    return "an object";
  }

  public static byte[] bytes(Object value) {
    try {
      return MAPPER.writeValueAsBytes(value);
    } catch (JsonProcessingException e) {
      throw new IllegalStateException("cannot serialize " + value.getClass().getSimpleName(), e);
    }
  }
}
