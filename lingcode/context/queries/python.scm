; lingcode tag query: Python. @definition.<kind> wraps a definition, @name is its name, @reference a use.
(class_definition name: (identifier) @name) @definition.class
(function_definition name: (identifier) @name) @definition.function
(module (expression_statement (assignment left: (identifier) @name)) @definition.constant)

(call function: (identifier) @reference)
(attribute attribute: (identifier) @reference)
(class_definition superclasses: (argument_list (identifier) @reference))
(import_from_statement name: (dotted_name (identifier) @reference))
(import_from_statement name: (aliased_import name: (dotted_name (identifier) @reference)))
(type (identifier) @reference)
(decorator (identifier) @reference)
