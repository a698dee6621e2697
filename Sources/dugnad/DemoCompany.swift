import DugnadCore
import DugnadProtocol

/// The people, channels and words of `dugnad demo`: Fjordkraft Verksted AS, a made-up
/// Norwegian workshop of 40 people. Plain data; `DemoSeeder` turns it into store writes.
enum DemoCompany {
    struct Person {
        var id: String
        var name: String
        var roles: [String]
        /// Share of working days the person opens the intranet (0–1).
        var engagement: Double
    }

    struct Channel {
        var name: String
        var kind: ChannelKind
        var title: String
        /// Messages on an ordinary working day, on average.
        var dailyMessages: Double
        /// Who is in it: every person, or the first `count` of the staff list rotated by `offset`.
        var members: Members
        var lines: [String]
    }

    enum Members {
        case everyone
        case leaders
        case some(count: Int, offset: Int)
    }

    /// The sign-in link `dugnad serve` prints is for `admin`; the demo makes that person a
    /// member of every channel, so the first look is a living intranet.
    static let admin = Person(id: "admin", name: "Local admin", roles: ["admin", "leader"], engagement: 1)

    static let leaders: [Person] = [
        Person(id: "kari.nordmann", name: "Kari Nordmann", roles: ["leader"], engagement: 0.95),
        Person(id: "lars.olsen", name: "Lars Olsen", roles: ["leader"], engagement: 0.8),
        Person(id: "ingrid.johansen", name: "Ingrid Johansen", roles: ["leader"], engagement: 0.9),
        Person(id: "henrik.nilsen", name: "Henrik Nilsen", roles: ["leader"], engagement: 0.85),
    ]

    static let staff: [Person] = [
        ("ola.hansen", "Ola Hansen"), ("sigrid.larsen", "Sigrid Larsen"), ("magnus.andersen", "Magnus Andersen"),
        ("astrid.pedersen", "Astrid Pedersen"), ("solveig.kristiansen", "Solveig Kristiansen"),
        ("erik.jensen", "Erik Jensen"), ("marit.karlsen", "Marit Karlsen"), ("jonas.johnsen", "Jonas Johnsen"),
        ("hilde.pettersen", "Hilde Pettersen"), ("anders.eriksen", "Anders Eriksen"), ("liv.berg", "Liv Berg"),
        ("per.haugen", "Per Haugen"), ("nora.hagen", "Nora Hagen"), ("even.johannessen", "Even Johannessen"),
        ("tuva.andreassen", "Tuva Andreassen"), ("sindre.jacobsen", "Sindre Jacobsen"), ("ase.dahl", "Åse Dahl"),
        ("oystein.jorgensen", "Øystein Jørgensen"), ("ragnhild.halvorsen", "Ragnhild Halvorsen"),
        ("tor.henriksen", "Tor Henriksen"), ("silje.lund", "Silje Lund"), ("kristian.sorensen", "Kristian Sørensen"),
        ("guro.moen", "Guro Moen"), ("vegard.gundersen", "Vegard Gundersen"), ("ida.iversen", "Ida Iversen"),
        ("bjorn.strand", "Bjørn Strand"), ("maja.solberg", "Maja Solberg"), ("hakon.svendsen", "Håkon Svendsen"),
        ("eli.eide", "Eli Eide"), ("knut.knutsen", "Knut Knutsen"), ("camilla.martinsen", "Camilla Martinsen"),
        ("stian.paulsen", "Stian Paulsen"), ("thea.bakken", "Thea Bakken"), ("arne.kristoffersen", "Arne Kristoffersen"),
        ("linnea.mathisen", "Linnea Mathisen"), ("ole.nygard", "Ole Nygård"),
    ].enumerated().map { index, person in
        // From keen (0.95) to rarely there (0.11): a real spread for the figures.
        Person(id: person.0, name: person.1, roles: [], engagement: 0.95 - Double(index % 14) * 0.065)
    }

    static var everyone: [Person] { [admin] + leaders + staff }

    static let channels: [Channel] = [
        Channel(
            name: "general", kind: .public, title: "Alle ansatte", dailyMessages: 6, members: .everyone,
            lines: [
                "God morgen alle sammen!", "Husk allmøtet i kantina kl. 14 i dag.",
                "Noen som har sett nøkkelen til møterom Fjorden?", "Gratulerer med dagen, Tuva! 🎉",
                "Takk for en fin fredag, god helg!", "Ny kaffemaskin i andre etasje ☕",
                "Hvem tar imot besøket fra Bergen på torsdag?", "Velkommen til våre nye kolleger i produksjonen!",
            ]),
        Channel(
            name: "nyheter", kind: .announce, title: "Nyheter fra ledelsen", dailyMessages: 0.4, members: .everyone,
            lines: [
                "Vi har signert ny avtale med Havbruk Nord 🎉", "Sommerfesten blir 14. juni på Bygdøy.",
                "Styret har godkjent planene for den nye hallen.",
            ]),
        Channel(
            name: "kantina", kind: .public, title: "Kantina og lunsj", dailyMessages: 4,
            members: .some(count: 28, offset: 0),
            lines: [
                "Dagens lunsj: fiskesuppe og nybakt brød 🐟", "Det er vafler i kantina nå!",
                "Kan vi få mer havremelk?", "Taco på fredag, som vanlig 🌮", "Rester fra møtet står i kjøleskapet.",
            ]),
        Channel(
            name: "it-hjelp", kind: .public, title: "IT-hjelp", dailyMessages: 3, members: .some(count: 22, offset: 5),
            lines: [
                "Skriveren i andre etasje er tom for toner igjen.", "VPN-en henger for meg, noen andre?",
                "Har startet den på nytt, prøv nå.", "Hvordan deler jeg en kalender med teamet?",
                "Husk å oppdatere laptopen før fredag.", "Passordet mitt er utløpt, hvem kan hjelpe?",
            ]),
        Channel(
            name: "salg", kind: .public, title: "Salg og kunder", dailyMessages: 2.5, members: .some(count: 12, offset: 10),
            lines: [
                "Tilbudet til Nordic Marine er sendt.", "Kunden i Tromsø vil ha levering før jul.",
                "Vi nådde månedsmålet! 🚀", "Hvem kan ta kundemøtet på tirsdag?", "Oppdatert prisliste ligger i mappa.",
            ]),
        Channel(
            name: "produksjon", kind: .public, title: "Produksjon", dailyMessages: 4, members: .some(count: 16, offset: 20),
            lines: [
                "Linje 2 står stille, venter på deler.", "Leveransen fra Sverige kom i dag.",
                "Kvalitetskontrollen er ferdig for uke 46.", "Nattskiftet trenger en ekstra i morgen.",
                "Maskin 4 er tilbake i drift 👍", "Husk vernebriller ved sagen.",
            ]),
        Channel(
            name: "hms", kind: .public, title: "HMS og sikkerhet", dailyMessages: 1.2, members: .some(count: 18, offset: 14),
            lines: [
                "Avvik meldt: glatt trapp ved inngang B.", "Førstehjelpskurs neste onsdag, meld dere på!",
                "Brannslukkerne er kontrollert.", "Husk refleksvest på parkeringen i mørket.",
            ]),
        Channel(
            name: "sosialt", kind: .public, title: "Sosialt og fritid", dailyMessages: 2, members: .some(count: 24, offset: 8),
            lines: [
                "Noen som vil bli med på skitur søndag? ⛷️", "Quiz på puben torsdag!", "Bildene fra julebordet er lagt ut.",
                "Bedriftsfotballen trenger en keeper.", "Hvem er med på dugnad i barnehagen til Nora?",
            ]),
        Channel(
            name: "ledergruppen", kind: .private, title: "Ledergruppen", dailyMessages: 1.5, members: .leaders,
            lines: [
                "Budsjettutkastet er klart for gjennomgang.", "Vi må se på bemanningen i januar.",
                "Medarbeiderundersøkelsen går ut mandag.", "Kan vi flytte ledermøtet til torsdag?",
            ]),
    ]

    static let replies = [
        "Takk!", "Enig 👍", "Jeg tar den.", "Bra jobbet!", "Når da?", "Supert, takk for info.", "Er på saken.",
        "Flott!", "Kommer!", "Det høres bra ut.",
    ]

    static let reactions = ["👍", "❤️", "🎉", "😂", "🙏"]

    struct Announcement {
        var from: String
        var title: String
        var body: String
        var audience: Audience
        var priority: Priority
        var requireAck: Bool
        var daysAgo: Double
        /// Days it stays current (for new hires and new members), from now.
        var currentForDays: Double?
    }

    static let announcements: [Announcement] = [
        Announcement(
            from: "kari.nordmann", title: "Velkommen til Dugnad!",
            body: "Her snakker vi sammen, deler det vi vet og får med oss det som skjer. Si hei i #general!",
            audience: .all, priority: .normal, requireAck: false, daysAgo: 24),
        Announcement(
            from: "henrik.nilsen", title: "Brannøvelse torsdag kl. 10",
            body: "Alarmen går kl. 10. Møt opp på parkeringsplassen og meld deg til din avdelingsleder.",
            audience: .all, priority: .important, requireAck: true, daysAgo: 17),
        Announcement(
            from: "ingrid.johansen", title: "Ny skiftplan i produksjonen",
            body: "Fra uke 48 går vi over til tre skift. Planen ligger i #produksjon.", audience: .channels(["produksjon"]),
            priority: .important, requireAck: true, daysAgo: 10),
        Announcement(
            from: "kari.nordmann", title: "Resultater for tredje kvartal",
            body: "Vi leverte 8 % over budsjett. Takk til alle for innsatsen!", audience: .all, priority: .normal,
            requireAck: false, daysAgo: 4),
        Announcement(
            from: "henrik.nilsen", title: "Strømstans fredag 07–09",
            body: "Netteier bytter trafo. Lagre arbeidet ditt torsdag ettermiddag; serverne går på aggregat.",
            audience: .all, priority: .urgent, requireAck: true, daysAgo: 1, currentForDays: 3),
    ]

    static let goals: [(GoalMetric, Double)] = [
        (.weeklyActivePct, 80), (.announcementReadWithin24hPct, 90), (.announcementAckWithin24hPct, 75),
        (.leaderPostsPerWeek, 5), (.channelsWithActivityPct, 70),
    ]
}
