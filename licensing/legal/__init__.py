"""The law the platform applies, in one register (register.py): every rule with its code, its plain statement in
both languages, its source and its severity."""
