; lingcode tag query: Ruby.
(class name: [(constant) (scope_resolution)] @name) @definition.class
(module name: [(constant) (scope_resolution)] @name) @definition.module
(method name: (_) @name) @definition.function
(singleton_method name: (_) @name) @definition.function
(assignment left: (constant) @name) @definition.constant

(call method: (identifier) @reference)
(superclass (constant) @reference)
(constant) @reference
