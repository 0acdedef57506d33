"""The schema is the manual: every type, field, argument, input field and enum value the code
builds has a description, and every deprecation says what to use instead. It walks whatever
is built, so elements added later are held to the same rule."""

from __future__ import annotations

from collections.abc import Iterator

from graphql import (
    DEFAULT_DEPRECATION_REASON,
    GraphQLArgument,
    GraphQLDirective,
    GraphQLEnumType,
    GraphQLEnumValue,
    GraphQLField,
    GraphQLInputField,
    GraphQLInputObjectType,
    GraphQLInterfaceType,
    GraphQLNamedType,
    GraphQLObjectType,
    GraphQLSchema,
    build_schema,
    is_introspection_type,
    is_specified_directive,
    is_specified_scalar_type,
)

from app.settings import Settings
from schema import build_schema as build_portal_schema

Element = GraphQLNamedType | GraphQLField | GraphQLArgument | GraphQLInputField | GraphQLEnumValue


def _own_types(schema: GraphQLSchema) -> Iterator[GraphQLNamedType]:
    """Every named type except GraphQL's own (introspection types, String, Int, ...)."""
    for named in schema.type_map.values():
        if not (is_introspection_type(named) or is_specified_scalar_type(named)):
            yield named


def _members(named: GraphQLNamedType) -> Iterator[tuple[str, Element]]:
    """The type's fields with their arguments, input fields or values, each with its name in
    the form the docs pane and the linter use: Type.field, Type.field(arg:), Enum.VALUE."""
    if isinstance(named, GraphQLObjectType | GraphQLInterfaceType):
        for field_name, field in named.fields.items():
            yield f"{named.name}.{field_name}", field
            for arg_name, arg in field.args.items():
                yield f"{named.name}.{field_name}({arg_name}:)", arg
    elif isinstance(named, GraphQLInputObjectType):
        for field_name, input_field in named.fields.items():
            yield f"{named.name}.{field_name}", input_field
    elif isinstance(named, GraphQLEnumType):
        for value_name, value in named.values.items():
            yield f"{named.name}.{value_name}", value


def elements(schema: GraphQLSchema) -> Iterator[tuple[str, Element]]:
    for named in _own_types(schema):
        yield named.name, named
        yield from _members(named)
    for directive in schema.directives:
        if not is_specified_directive(directive):
            for arg_name, arg in directive.args.items():
                yield f"@{directive.name}({arg_name}:)", arg


def _described(element: Element | GraphQLDirective) -> bool:
    return bool((element.description or "").strip())


def undocumented(schema: GraphQLSchema) -> list[str]:
    """Elements with no description, or only blanks."""
    missing = [name for name, element in elements(schema) if not _described(element)]
    missing += [
        f"@{d.name}"
        for d in schema.directives
        if not is_specified_directive(d) and not _described(d)
    ]
    return missing


def vague_deprecations(schema: GraphQLSchema) -> list[str]:
    """Deprecated elements whose reason does not say what to use instead: none given (GraphQL
    then says "No longer supported") or blank."""
    vague = {"", DEFAULT_DEPRECATION_REASON}
    return [
        name
        for name, element in elements(schema)
        if not isinstance(element, GraphQLNamedType)
        and element.deprecation_reason is not None
        and element.deprecation_reason.strip() in vague
    ]


def test_every_element_of_the_schema_has_a_description(settings: Settings) -> None:
    # given
    schema = build_portal_schema(settings)._schema
    # when
    missing = undocumented(schema)
    # then
    assert missing == [], "Describe these where the code declares them:\n  " + "\n  ".join(missing)


def test_every_deprecation_says_what_to_use_instead(settings: Settings) -> None:
    # given
    schema = build_portal_schema(settings)._schema
    # when
    vague = vague_deprecations(schema)
    # then
    assert vague == [], "Give deprecation_reason saying what to use instead:\n  " + "\n  ".join(
        vague
    )


def test_the_walk_names_each_kind_of_undescribed_element() -> None:
    # given every kind of element, one of each undescribed
    sdl = '''
        """Described."""
        type Query {
          """Described."""
          ok: Boolean
          bare(
            """Described."""
            good: Int
            plain: Int
          ): Boolean
        }
        type Bare { x: Int }
        input Thing {
          """Described."""
          a: Int
          b: Int
        }
        enum Mood {
          """Described."""
          HAPPY
          SAD
        }
        scalar Stamp
        directive @marked(level: Int) on FIELD_DEFINITION
    '''
    schema = build_schema(sdl)
    # when
    missing = undocumented(schema)
    # then
    assert sorted(missing) == sorted(
        [
            "Query.bare",
            "Query.bare(plain:)",
            "Bare",
            "Bare.x",
            "Thing",
            "Thing.b",
            "Mood",
            "Mood.SAD",
            "Stamp",
            "@marked",
            "@marked(level:)",
        ]
    )


def test_the_walk_refuses_a_deprecation_without_a_reason() -> None:
    # given
    sdl = """
        type Query {
          old: Int @deprecated
          blank: Int @deprecated(reason: " ")
          moved: Int @deprecated(reason: "Use `new`.")
          new: Int
        }
    """
    # when
    vague = vague_deprecations(build_schema(sdl))
    # then
    assert vague == ["Query.old", "Query.blank"]
